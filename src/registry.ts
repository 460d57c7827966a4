/**
 * The job type registry: code definitions merged with admin overrides stored in the store.
 * Overrides are reloaded every `pollIntervalMs`, so a change made by any engine is in force
 * on every engine sharing the store within that interval.
 */
import { isImplemented, type AnyImplementedJobType, type AnyJobType } from './define-job-type.js';
import { jobTypeSettingsSchema } from './job-type-settings.js';
import { UnknownJobTypeError, ValidationError } from './errors.js';
import { zodValidationError } from './validation.js';
import type { JobTypeInfo, JobTypeSettings } from './types.js';
import type { ClaimTypeLimits } from './storage/adapter.js';

/** Looks job types up by name and answers the settings in force. */
export class JobRegistry {
  readonly #types = new Map<string, AnyJobType>();
  #overrides: Record<string, Partial<JobTypeSettings>> = {};
  #infoCache = new Map<string, JobTypeInfo>();
  #limitsCache: readonly ClaimTypeLimits[] | null = null;
  #generation = 0;

  readonly #implemented: string[] = [];

  /** @throws ValidationError naming `jobTypes.<i>` for a non-job-type entry or a duplicate name */
  constructor(types: readonly AnyJobType[]) {
    types.forEach((t, i) => {
      if (!t || typeof t.name !== 'string' || typeof t.implement !== 'function') {
        throw new ValidationError(`Invalid JobEngine options: jobTypes.${i}: must be a result of defineJobType()`, [
          { path: ['jobTypes', i], message: 'must be a result of defineJobType()' },
        ]);
      }
      if (this.#types.has(t.name)) {
        throw new ValidationError(`Invalid JobEngine options: jobTypes.${i}: job type "${t.name}" is registered twice (names are unique per engine)`, [
          { path: ['jobTypes', i], message: `job type "${t.name}" is registered twice` },
        ]);
      }
      this.#types.set(t.name, t);
      if (isImplemented(t)) this.#implemented.push(t.name);
    });
  }

  /** True when a type called `name` is registered. */
  has(name: string): boolean {
    return this.#types.has(name);
  }

  /** Names of every registered type. */
  names(): string[] {
    return [...this.#types.keys()];
  }

  /** Names of the types with a handler: the only ones a worker engine claims. */
  implementedNames(): readonly string[] {
    return this.#implemented;
  }

  /**
   * The implemented type called `name`, for the runner. Claims select implemented types only,
   * so a miss is a bug, not user input.
   */
  runnable(name: string): AnyImplementedJobType {
    const t = this.get(name);
    if (!isImplemented(t)) throw new Error(`Job type "${name}" has no handler in this engine`);
    return t;
  }

  /**
   * The type called `name`. A Map lookup, so `__proto__`, `constructor` and other
   * non-registered strings never resolve (S5).
   * @throws UnknownJobTypeError
   */
  get(name: unknown): AnyJobType {
    const t = typeof name === 'string' ? this.#types.get(name) : undefined;
    if (!t) throw new UnknownJobTypeError(typeof name === 'string' ? name : String(name));
    return t;
  }

  /** Settings in force for `name`: the definition's defaults with stored overrides applied. */
  info(name: string): JobTypeInfo {
    const cached = this.#infoCache.get(name);
    if (cached) return cached;
    const t = this.get(name);
    const o = this.#overrides[name] ?? {};
    const info: JobTypeInfo = {
      name: t.name,
      displayName: o.displayName ?? t.displayName,
      priority: o.priority ?? t.priority,
      timeoutMs: o.timeoutMs ?? t.timeoutMs,
      maxRetries: o.maxRetries ?? t.maxRetries,
      enabled: o.enabled ?? t.enabled,
      requiresPermission: o.requiresPermission !== undefined ? o.requiresPermission : t.requiresPermission,
      dedupWindowMs: o.dedupWindowMs ?? t.dedupWindowMs,
      concurrency: o.concurrency !== undefined ? o.concurrency : t.concurrency,
      concurrencyPerOrg: o.concurrencyPerOrg !== undefined ? o.concurrencyPerOrg : t.concurrencyPerOrg,
      paused: o.paused ?? t.paused,
      rateLimit: o.rateLimit !== undefined ? o.rateLimit : t.rateLimit,
    };
    this.#infoCache.set(name, info);
    return info;
  }

  /**
   * The flow-control settings in force of the implemented types that have any, for the
   * claim request (the store enforces them). Cached until the overrides change.
   */
  claimLimits(): readonly ClaimTypeLimits[] {
    if (this.#limitsCache) return this.#limitsCache;
    const limits: ClaimTypeLimits[] = [];
    for (const name of this.#implemented) {
      const i = this.info(name);
      if (!i.paused && i.concurrency === null && i.concurrencyPerOrg === null && i.rateLimit === null) continue;
      limits.push({ type: name, paused: i.paused, concurrency: i.concurrency, concurrencyPerOrg: i.concurrencyPerOrg, rateLimit: i.rateLimit });
    }
    return (this.#limitsCache = limits);
  }

  /** Every registered type's settings in force. */
  list(): JobTypeInfo[] {
    return this.names().map((n) => this.info(n));
  }

  /** Counts `applyOverrides` calls, so a reload that began before an update can tell it is stale. */
  get generation(): number {
    return this.#generation;
  }

  /** Replaces the stored overrides (unknown names are kept but unused). Invalid stored values are ignored. */
  applyOverrides(overrides: Record<string, Partial<JobTypeSettings>>): void {
    const clean: Record<string, Partial<JobTypeSettings>> = {};
    for (const [name, value] of Object.entries(overrides)) {
      const parsed = jobTypeSettingsSchema.safeParse(value);
      if (parsed.success) clean[name] = parsed.data;
    }
    this.#overrides = clean;
    this.#generation++;
    this.#infoCache.clear();
    this.#limitsCache = null;
  }

  /**
   * Validates an admin change.
   * @throws UnknownJobTypeError, ValidationError naming the field
   */
  validateChange(name: unknown, changes: unknown): { name: string; changes: Partial<JobTypeSettings> } {
    const t = this.get(name);
    const parsed = jobTypeSettingsSchema.safeParse(changes);
    if (!parsed.success) throw zodValidationError('job type settings', parsed.error);
    if (Object.keys(parsed.data).length === 0) {
      throw new ValidationError('Invalid job type settings: no field to change', [{ path: [], message: 'no field to change' }]);
    }
    return { name: t.name, changes: parsed.data };
  }
}

/**
 * A worker with nothing to run would claim nothing forever, silently: refuse it up front.
 * @throws ValidationError naming `jobTypes`
 */
export function assertWorkerHasHandlers(registry: JobRegistry, worker: boolean): void {
  if (!worker || registry.implementedNames().length > 0) return;
  const names = registry.names();
  const why = names.length === 0
    ? 'a worker engine needs at least one job type with a handler'
    : `a worker engine needs at least one job type with a handler; ${names.map((n) => `"${n}"`).join(', ')} ${names.length === 1 ? 'is' : 'are'} only declared (call .implement(handler))`;
  throw new ValidationError(`Invalid JobEngine options: jobTypes: ${why}, or pass worker: false for a process that only submits and reads`, [
    { path: ['jobTypes'], message: why },
  ]);
}
