/**
 * JobClient: the verbs users call, scoped to one actor. Every check of org and permission
 * happens here, before the store is touched; a non-admin's view holds only its own org, and
 * another org's job id behaves exactly like an id that does not exist.
 */
import type { AnyJobType, CheckpointOf, InputOf, NameOf, OutputOf, ParsedInputOf, TypeByName } from './define-job-type.js';
import {
  DuplicateJobError,
  InvalidStateError,
  JobNotFoundError,
  PermissionDeniedError,
  ValidationError,
} from './errors.js';
import type { JobwingEvents, SafeEmitter } from './events.js';
import { INSTRUMENTATION, type Instrumentation } from './instrumentation.js';
import type { JobRegistry } from './registry.js';
import type { Clock } from './clock.js';
import { pruneFinishedJobs } from './maintenance/pruner.js';
import type { InsertOutcome, NewJob, StorageAdapter } from './storage/adapter.js';
import { prepareSubmission } from './submission.js';
import type {
  Actor,
  Job,
  JobHistoryEntry,
  JobPage,
  JobTypeInfo,
  JobTypeSettings,
  ListOptions,
  Metrics,
  MetricsOptions,
  SubmitOptions,
} from './types.js';
import { cleanupOptionsSchema, listOptionsSchema, metricsOptionsSchema, parseOrThrow } from './validation.js';

/** A job id that remembers its job type, so `get(id)` is typed without generics. */
export type JobId<N extends string = string> = string & { readonly __jobType?: N };

/** A job of one of the types in `T`, discriminated by `type`. */
export type TypedJob<T extends AnyJobType> = T extends AnyJobType
  ? Omit<Job<ParsedInputOf<T>, OutputOf<T>, CheckpointOf<T>>, 'id' | 'type'> & { id: JobId<T['name']>; type: T['name'] }
  : never;

/** One entry of `submitMany`. */
export type SubmitManyEntry<T extends AnyJobType> = T extends AnyJobType
  ? { type: T['name']; input: InputOf<T>; options?: SubmitOptions }
  : never;

/** What a client needs from its engine. */
export interface EngineCore {
  readonly storage: StorageAdapter;
  readonly registry: JobRegistry;
  readonly clock: Clock;
  readonly emitter: SafeEmitter;
  readonly payloadLimitBytes: number;
  /** Counters, and spans under jobwing/otel. */
  readonly instrumentation: Instrumentation;
  assertStarted(): void;
  /** Inserts one job through the group-commit queue. */
  insertOne(job: NewJob, actorId: string): Promise<InsertOutcome>;
  /** Aborts the attempt of `jobId` if it runs in this process. */
  abortLocal(jobId: string): void;
}

const MAX_ID_LENGTH = 100;

/** The scoped verbs. Get one with `engine.as(actor)` or use `engine.system`. */
// The default is `any` on purpose: a bare `JobClient` annotation (e.g. a function taking any
// engine) must accept an engine of any job types; typed code keeps the inferred `T`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class JobClient<T extends AnyJobType = any> {
  /** The actor every call of this client acts as. */
  readonly actor: Readonly<Actor>;
  readonly #core: EngineCore;
  readonly #trusted: boolean;

  /** @internal Use `engine.as(actor)` or `engine.system`. */
  constructor(core: EngineCore, actor: Actor, trusted: boolean) {
    this.#core = core;
    this.actor = Object.freeze({ ...actor, permissions: actor.permissions ? Object.freeze([...actor.permissions]) : undefined });
    this.#trusted = trusted;
  }

  /** `null` (every org) for admins, else the actor's org. */
  get #scope(): string | null {
    return this.actor.admin ? null : this.actor.orgId;
  }

  /**
   * Submits a job. Resolves after the job is committed.
   * @throws UnknownJobTypeError, JobTypeDisabledError, PermissionDeniedError, ValidationError,
   *   PayloadTooLargeError, DuplicateJobError (with `existingJobId`), JobNotFoundError (a parent)
   * @example
   * ```ts
   * const job = await alice.submit('send-report', { reportId: 'r1', email: 'a@b.co' }, { priority: 'high' });
   * ```
   */
  async submit<N extends NameOf<T>>(type: N, input: InputOf<TypeByName<T, N>>, options?: SubmitOptions): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    const c = this.#core;
    const newJob = await prepareSubmission(c.registry, { actor: this.actor, trusted: this.#trusted }, type, input, options, c.clock.now(), c.payloadLimitBytes);
    const outcome = await c.instrumentation.sendOne(newJob, () => c.insertOne(newJob, this.actor.userId));
    const job = unwrapInsert(outcome, newJob);
    return job as TypedJob<TypeByName<T, N>>;
  }

  /**
   * Submits several jobs in one transaction: all are written or none.
   * @throws the first error of any entry (paths are prefixed with the entry's index)
   */
  async submitMany(entries: readonly SubmitManyEntry<T>[]): Promise<TypedJob<T>[]> {
    this.#core.assertStarted();
    const c = this.#core;
    if (!Array.isArray(entries)) throw new ValidationError('submitMany takes an array', [{ path: [], message: 'expected an array' }]);
    if (entries.length === 0) return [];
    const now = c.clock.now();
    const prepared: NewJob[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as { type?: unknown; input?: unknown; options?: SubmitOptions } | undefined;
      if (!e || typeof e !== 'object') throw new ValidationError(`submitMany entry ${i} must be an object`, [{ path: [i], message: 'expected an object' }]);
      prepared.push(await prepareSubmission(c.registry, { actor: this.actor, trusted: this.#trusted }, e.type, e.input, e.options, now, c.payloadLimitBytes, i));
    }
    const outcomes = await c.instrumentation.send(prepared, () => c.storage.insertJobs({ jobs: prepared, actorId: this.actor.userId, now, atomic: true }));
    const failed = outcomes.findIndex((o) => o.kind !== 'inserted' && o.kind !== 'not_written');
    if (failed >= 0) unwrapInsert(outcomes[failed]!, prepared[failed]!);
    const jobs = outcomes.map((o, i) => unwrapInsert(o, prepared[i]!));
    return jobs as TypedJob<T>[];
  }

  /**
   * The job with this id.
   * @throws JobNotFoundError (also for another org's job, for non-admins)
   */
  async get<N extends NameOf<T>>(id: JobId<N>): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    return (await this.#load(id)) as TypedJob<TypeByName<T, N>>;
  }

  /**
   * Jobs matching the filters, newest first, one page at a time.
   * @example
   * ```ts
   * let page = await alice.list({ status: ['queued', 'running'], limit: 100 });
   * while (page.nextCursor) page = await alice.list({ status: ['queued', 'running'], limit: 100, cursor: page.nextCursor });
   * ```
   */
  async list(options: ListOptions = {}): Promise<JobPage<TypedJob<T>>> {
    this.#core.assertStarted();
    const o = parseOrThrow(listOptionsSchema, options, 'list options');
    const orgId = this.#orgFilter(o.orgId);
    const asArray = <V>(v: V | readonly V[] | undefined): V[] | null => (v === undefined ? null : Array.isArray(v) ? [...(v as V[])] : [v as V]);
    const page = await this.#core.storage.listJobs({
      orgId,
      statuses: asArray(o.status),
      types: asArray(o.type),
      ownerId: o.ownerId ?? null,
      createdAfter: o.createdAfter ? o.createdAfter.getTime() : null,
      createdBefore: o.createdBefore ? o.createdBefore.getTime() : null,
      limit: o.limit ?? 50,
      cursor: o.cursor ?? null,
    });
    return page as JobPage<TypedJob<T>>;
  }

  /**
   * Cancels a live job: the owner or an admin. A queued job never runs; a running job's
   * handler sees `signal.reason === 'canceled'` (at once in this process, within one
   * heartbeat elsewhere). Waiting dependents are canceled too.
   * @throws JobNotFoundError, PermissionDeniedError, InvalidStateError
   */
  async cancel<N extends NameOf<T>>(id: JobId<N>): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    const job = await this.#load(id);
    if (!this.actor.admin && job.ownerId !== this.actor.userId) {
      throw new PermissionDeniedError('Only the owner of a job or an admin can cancel it');
    }
    const c = this.#core;
    const r = await c.storage.cancelJob({ jobId: job.id, orgId: this.#scope, actorId: this.actor.userId, now: c.clock.now() });
    if (r.kind === 'not_found') throw new JobNotFoundError(job.id);
    if (r.kind === 'invalid_state') throw new InvalidStateError(`Cannot cancel a ${r.status} job`, r.status);
    c.abortLocal(job.id);
    return r.job as TypedJob<TypeByName<T, N>>;
  }

  /**
   * Admin only: puts a dead_letter or canceled job back to `queued` with its retry budget reset.
   * @throws PermissionDeniedError, JobNotFoundError, InvalidStateError
   */
  async retry<N extends NameOf<T>>(id: JobId<N>): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    this.#requireAdmin('retry');
    const c = this.#core;
    const jobId = this.#checkId(id);
    const r = await c.storage.retryJob({ jobId, orgId: null, actorId: this.actor.userId, now: c.clock.now() });
    if (r.kind === 'not_found') throw new JobNotFoundError(jobId);
    if (r.kind === 'invalid_state') throw new InvalidStateError(`Cannot retry a ${r.status} job: only dead_letter and canceled jobs can be retried`, r.status);
    if (r.kind === 'parent_failed') throw new InvalidStateError(`Cannot retry: parent ${r.parentId} failed; retry the parent first`, 'canceled');
    return r.job as TypedJob<TypeByName<T, N>>;
  }

  /** Every state transition of the job, oldest first. @throws JobNotFoundError */
  async history(id: JobId): Promise<JobHistoryEntry[]> {
    this.#core.assertStarted();
    const job = await this.#load(id);
    return this.#core.storage.listHistory({ jobId: job.id });
  }

  /**
   * Counts, queue depth, processing times and failure rates, computed by the store.
   * Non-admins see their own org; admins all orgs or `{ orgId }`.
   */
  async metrics(options: MetricsOptions = {}): Promise<Metrics> {
    this.#core.assertStarted();
    const o = parseOrThrow(metricsOptionsSchema, options, 'metrics options');
    const now = this.#core.clock.now();
    return this.#core.storage.collectMetrics({
      orgId: this.#orgFilter(o.orgId),
      since: o.since ? o.since.getTime() : now - 86_400_000,
      now,
    });
  }

  /** Settings in force of every registered job type. */
  async jobTypes(): Promise<JobTypeInfo[]> {
    this.#core.assertStarted();
    return this.#core.registry.list();
  }

  /**
   * Admin only: changes a job type's settings at run time. Persisted, audited, and in force
   * on every engine on the store within `pollIntervalMs`.
   * @throws PermissionDeniedError, UnknownJobTypeError, ValidationError
   */
  async updateJobType(name: NameOf<T>, changes: Partial<JobTypeSettings>): Promise<JobTypeInfo> {
    this.#core.assertStarted();
    this.#requireAdmin('updateJobType');
    const c = this.#core;
    const valid = c.registry.validateChange(name, changes);
    await c.storage.updateJobTypeSettings({ ...valid, actorId: this.actor.userId, now: c.clock.now() });
    c.registry.applyOverrides(await c.storage.loadJobTypeSettings());
    return c.registry.info(valid.name);
  }

  /**
   * Admin only: deletes completed, canceled and dead_letter jobs that finished more than
   * `olderThanMs` ago, with their history, in batches. Live jobs are never deleted.
   * @returns how many jobs were deleted
   */
  async cleanup(options: { olderThanMs: number }): Promise<number> {
    this.#core.assertStarted();
    this.#requireAdmin('cleanup');
    const o = parseOrThrow(cleanupOptionsSchema, options, 'cleanup options');
    return pruneFinishedJobs(this.#core.storage, this.#core.clock.now() - o.olderThanMs);
  }

  /**
   * Subscribes to job events of this actor's org (admins: every org).
   * @returns a function that unsubscribes
   */
  on<E extends 'job:status' | 'job:progress'>(event: E, listener: JobwingEvents[E]): () => void {
    const scope = this.#scope;
    // Returns the listener's result, so the emitter can report an async listener's rejection.
    const filtered = ((e: { orgId: string }): unknown => {
      if (scope === null || e.orgId === scope) return (listener as (e: unknown) => unknown)(e);
      return undefined;
    }) as JobwingEvents[E];
    this.#core.emitter.on(event, filtered as never);
    return () => {
      this.#core.emitter.off(event, filtered as never);
    };
  }

  /** @internal The engine's instrumentation slot (jobwing/otel, the Prometheus exposition). */
  get [INSTRUMENTATION](): Instrumentation {
    return this.#core.instrumentation;
  }

  #checkId(id: unknown): string {
    // Not a string, empty or absurdly long: behaves like an id that does not exist.
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) throw new JobNotFoundError(String(id));
    return id;
  }

  async #load(id: unknown): Promise<Job> {
    const jobId = this.#checkId(id);
    const job = await this.#core.storage.getJob({ id: jobId, orgId: this.#scope });
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  #orgFilter(orgId: string | undefined): string | null {
    if (this.actor.admin) return orgId ?? null;
    if (orgId !== undefined && orgId !== this.actor.orgId) {
      throw new PermissionDeniedError('Only admins can read across organizations');
    }
    return this.actor.orgId;
  }

  #requireAdmin(verb: string): void {
    if (!this.actor.admin) throw new PermissionDeniedError(`${verb} is for admins only`);
  }
}

/** Maps an insert outcome to the job, or to the error the caller gets. */
function unwrapInsert(outcome: InsertOutcome, job: NewJob): Job {
  switch (outcome.kind) {
    case 'inserted':
      return outcome.job;
    case 'duplicate':
      throw new DuplicateJobError(outcome.existingJobId, job.type);
    case 'parent_not_found':
      throw new JobNotFoundError(outcome.parentId);
    case 'not_written':
      throw new InvalidStateError('Not written: another job of the batch was rejected', 'queued');
  }
}
