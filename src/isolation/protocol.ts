/**
 * The messages between a job runner (main thread) and an isolation thread, and the safe
 * serialization of thrown values across that boundary. Pure: the thread entry imports it, so
 * it must not pull in the engine.
 */
import type { JobContextInfo } from '../define-job-type.js';
import type { AbortReason } from '../states.js';

/**
 * What the handler in the thread learns about its job: exactly `ctx.job`. A type-only import
 * (erased at build), so the thread still loads nothing of the engine.
 */
export type ThreadJobInfo = JobContextInfo;

/** A thrown value as it crosses the boundary: enough to rebuild, classify and store it. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Set when the value was (a subclass of) jobwing's TransientError/PermanentError. */
  marker?: 'transient' | 'permanent';
  /** Own primitive properties (`code`, `status`…), so a type's `classifyError` can read them. */
  props: Record<string, string | number | boolean | null>;
}

/** Main thread → isolation thread. */
export type ToThread =
  | { t: 'start'; module: string; job: ThreadJobInfo; input: unknown; checkpoint: unknown }
  | { t: 'abort'; reason: AbortReason }
  | { t: 'ack'; req: number; ok: true; checkpoint?: unknown }
  | { t: 'ack'; req: number; ok: false; error: SerializedError };

/** Isolation thread → main thread. */
export type FromThread =
  | { t: 'progress'; req: number; percent: unknown; message: unknown }
  | { t: 'checkpoint'; req: number; value: unknown }
  | { t: 'result'; value: unknown }
  | { t: 'error'; error: SerializedError };

const MAX_TEXT = 16_384;

/**
 * Serializes anything thrown. Never throws: getters that throw, null-prototype objects and
 * non-error values are described best-effort (the store truncates further).
 */
export function serializeThrown(thrown: unknown): SerializedError {
  const name = text(read(thrown, 'name')) ?? (thrown instanceof Error ? 'Error' : 'NonErrorThrown');
  const message = text(read(thrown, 'message')) ?? describe(thrown);
  const out: SerializedError = { name: name.slice(0, 200), message: message.slice(0, MAX_TEXT), props: {} };
  const stack = text(read(thrown, 'stack'));
  if (stack) out.stack = stack.slice(0, MAX_TEXT);
  const marker = markerOf(thrown);
  if (marker) out.marker = marker;
  if (thrown && typeof thrown === 'object') {
    try {
      for (const key of Object.keys(thrown).slice(0, 20)) {
        if (key === 'name' || key === 'message' || key === 'stack') continue;
        const v = read(thrown, key);
        if (v === null || typeof v === 'number' || typeof v === 'boolean') out.props[key] = v;
        else if (typeof v === 'string') out.props[key] = v.slice(0, 1_000);
      }
    } catch {
      // a Proxy whose ownKeys trap throws: keep what we have
    }
  }
  return out;
}

/**
 * 'transient'/'permanent' when the value is (a subclass of) jobwing's TransientError or
 * PermanentError. By constructor name along the prototype chain, not `instanceof`: the handler
 * module may load another copy of jobwing (ESM vs CJS build) than the engine.
 */
export function markerOf(thrown: unknown): 'transient' | 'permanent' | undefined {
  try {
    let proto = thrown && typeof thrown === 'object' ? Object.getPrototypeOf(thrown) : null;
    for (let depth = 0; proto && depth < 20; depth++) {
      const ctorName = (proto.constructor as { name?: unknown } | undefined)?.name;
      if (ctorName === 'PermanentError') return 'permanent';
      if (ctorName === 'TransientError') return 'transient';
      proto = Object.getPrototypeOf(proto);
    }
  } catch {
    // a hostile Proxy: no marker
  }
  return undefined;
}

function read(value: unknown, key: string): unknown {
  if (!value || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return String(value);
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `(a thrown ${value === null ? 'null' : typeof value} that cannot be turned into a string)`;
  }
}
