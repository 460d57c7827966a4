/**
 * The `isolation` option of `defineJobType`: validated once at definition time and turned
 * into a normalized form (module as a file URL string, limits as given).
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';

/** Runs the handler in a worker thread; `module` exports `handler` (same signature). */
export interface IsolationOptions {
  kind: 'worker-thread';
  /** The handler module: a `file:` URL (e.g. `new URL('./x.handler.js', import.meta.url)`) or an absolute path. */
  module: URL | string;
  /** worker_threads resource limits, e.g. `{ maxOldGenerationSizeMb: 256 }`. */
  resourceLimits?: Pick<ResourceLimits, 'maxOldGenerationSizeMb' | 'maxYoungGenerationSizeMb' | 'codeRangeSizeMb' | 'stackSizeMb'>;
}

/** The validated option as the pool uses it. */
export interface NormalizedIsolation {
  kind: 'worker-thread';
  /** `file:` URL string of the handler module. */
  module: string;
  resourceLimits: NonNullable<IsolationOptions['resourceLimits']>;
  /** Pool key: threads are shared only between types with the same module and limits. */
  key: string;
}

const LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

/**
 * @throws TypeError naming the bad field (`isolation.kind`, `isolation.module`, `isolation.resourceLimits.<key>`)
 */
export function normalizeIsolation(typeName: string, value: unknown): NormalizedIsolation {
  const fail = (what: string): never => {
    throw new TypeError(`Job type "${typeName}": ${what}`);
  };
  if (!value || typeof value !== 'object') fail('isolation must be an object like { kind: \'worker-thread\', module: new URL(\'./x.handler.js\', import.meta.url) }');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!['kind', 'module', 'resourceLimits'].includes(key)) fail(`isolation.${key} is not a known option (kind, module, resourceLimits)`);
  if (o.kind !== 'worker-thread') fail(`isolation.kind must be 'worker-thread', got ${JSON.stringify(String(o.kind)).slice(0, 60)}`);
  let href: string;
  if (o.module instanceof URL) href = o.module.href;
  else if (typeof o.module === 'string' && o.module.startsWith('file:')) href = new URL(o.module).href;
  else if (typeof o.module === 'string' && isAbsolute(o.module)) href = pathToFileURL(o.module).href;
  else href = fail('isolation.module must be a file: URL (new URL(\'./x.handler.js\', import.meta.url)) or an absolute path');
  if (!href.startsWith('file:')) fail(`isolation.module must be a file: URL, got ${href.slice(0, 100)}`);
  const limits: Record<string, number> = {};
  if (o.resourceLimits !== undefined) {
    if (!o.resourceLimits || typeof o.resourceLimits !== 'object') fail('isolation.resourceLimits must be an object');
    for (const [k, v] of Object.entries(o.resourceLimits as Record<string, unknown>)) {
      if (!(LIMIT_KEYS as readonly string[]).includes(k)) fail(`isolation.resourceLimits.${k} is not a known limit (${LIMIT_KEYS.join(', ')})`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`isolation.resourceLimits.${k} must be a positive number`);
      limits[k] = v as number;
    }
  }
  const sorted = Object.fromEntries(Object.entries(limits).sort(([a], [b]) => a.localeCompare(b)));
  return { kind: 'worker-thread', module: href, resourceLimits: sorted, key: `${href}\n${JSON.stringify(sorted)}` };
}
