/**
 * JobEngine: wires the parts (registry, scheduler loop, maintenance, event feed) around one
 * store. The verbs live on the scoped clients it hands out: `engine.as(actor)` and
 * `engine.system`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { BatchQueue } from './batch-queue.js';
import { createSubmitQueue, type SubmitRequest } from './submit-queue.js';
import { JobClient, type EngineCore } from './client.js';
import { checkHealth, healthOptionsSchema, type EngineHealth, type HealthDeps, type HealthOptions } from './health.js';
import { systemClock, type Clock } from './clock.js';
import type { AnyJobType } from './define-job-type.js';
import { EngineStoppedError } from './errors.js';
import { EventFeed } from './event-feed.js';
import { Instrumentation } from './instrumentation.js';
import { SafeEmitter, type JobwingEvents } from './events.js';
import { Maintenance } from './maintenance/maintenance.js';
import { DEFAULT_PAYLOAD_LIMIT_BYTES } from './payload.js';
import { assertWorkerHasHandlers, JobRegistry } from './registry.js';
import { DispatchLoop } from './scheduler/dispatch-loop.js';
import type { InsertOutcome, NewJob, StorageAdapter } from './storage/adapter.js';
import { observeWrites } from './storage/observed-storage.js';
import { sqliteStorage } from './storage/sqlite/sqlite-storage.js';
import type { Actor } from './types.js';
import { actorSchema, parseOrThrow, stopOptionsSchema } from './validation.js';
import { parseSchedules, type ScheduleDefinition } from './schedules/schedule-definition.js';
import { ScheduleRunner } from './schedules/schedule-runner.js';
import { submitTick } from './schedules/submit-tick.js';

/** Options of {@link JobEngine}. */
export interface JobEngineOptions<T extends AnyJobType> {
  /**
   * The job types this engine knows. A worker runs (and claims) only the implemented ones;
   * types declared without a handler can be submitted and read. A worker needs at least one
   * implemented type.
   */
  jobTypes: readonly T[];
  /** (Default: `sqliteStorage({ path: 'jobwing.sqlite' })`) */
  storage?: StorageAdapter;
  /** Handlers running at once in this process. (Default: 4) */
  concurrency?: number;
  /** false: this process submits and reads, never runs handlers. (Default: true) */
  worker?: boolean;
  /** A claimed job's lease; renewed every leaseMs / 3. (Default: 30_000) */
  leaseMs?: number;
  /** Longest wait before a due job is claimed or another process's event arrives. (Default: 1_000) */
  pollIntervalMs?: number;
  /** Finished jobs older than `maxAgeMs` are pruned daily. (Default: 30 days) */
  retention?: { maxAgeMs?: number };
  /** Size limits. (Default: 256 KiB each for input, output and checkpoint) */
  limits?: { payloadBytes?: number };
  /** Time source; use the fake clock of `jobwing/testing` in tests. (Default: the system clock) */
  clock?: Clock;
  /** Identifies this engine in leases and history. (Default: a random id) */
  workerId?: string;
  /** Random source for backoff jitter, in [0, 1). (Default: Math.random) */
  random?: () => number;
  /**
   * 'org': within one priority level, orgs are served in turn, so one org's backlog never
   * starves another's; 'none': plain claim order (priority, runAt, submission). (Default: 'org')
   */
  fairness?: 'org' | 'none';
  /**
   * Recurring jobs: each tick of a cron creates one job across every engine on the store.
   * A bad cron, timezone or type is a ValidationError here. (Default: none)
   */
  schedules?: readonly ScheduleDefinition[];
}

/** Options of {@link JobEngine.stop}. */
export interface StopOptions {
  /** How long running handlers may finish before they are aborted with 'shutdown'. (Default: 10_000) */
  graceMs?: number;
}

const optionsSchema = z
  .object({
    jobTypes: z.array(z.any()),
    storage: z.custom<StorageAdapter>((s) => !!s && typeof (s as StorageAdapter).claimJobs === 'function', 'must be a storage adapter such as sqliteStorage()').optional(),
    concurrency: z.number().int().min(1).max(10_000).optional(),
    worker: z.boolean().optional(),
    leaseMs: z.number().int().min(50).max(86_400_000).optional(),
    pollIntervalMs: z.number().int().min(1).max(3_600_000).optional(),
    retention: z.object({ maxAgeMs: z.number().int().min(0).optional() }).strict().optional(),
    limits: z.object({ payloadBytes: z.number().int().min(1).max(64 * 1024 * 1024).optional() }).strict().optional(),
    clock: z.custom<Clock>((c) => !!c && typeof (c as Clock).now === 'function' && typeof (c as Clock).setTimeout === 'function', 'must implement Clock').optional(),
    workerId: z.string().min(1).max(100).optional(),
    random: z.custom<() => number>((f) => typeof f === 'function', 'must be a function').optional(),
    fairness: z.enum(['org', 'none']).optional(),
    schedules: z.unknown().optional(), // validated by parseSchedules, which names the bad entry
  })
  .strict();

/** Symbol-keyed internals for `jobwing/testing` (drain, fake-clock helpers); not public API. */
// Symbol.for: the CJS build bundles each entry point separately (jobwing/http, jobwing/testing),
// and they must still find the internals of an engine made by the main entry.
export const engineInternals = Symbol.for('jobwing.internals');

/** What `jobwing/testing` reaches through {@link engineInternals}. */
export interface EngineInternals {
  storage: StorageAdapter;
  clock: Clock;
  /** Resolves when nothing due is left to claim and nothing runs here. */
  whenIdle(): Promise<void>;
  /** Runs one maintenance pass now (rescue, promote). */
  maintain(): Promise<void>;
  /** Delivers every event committed so far. */
  flushEvents(): Promise<void>;
  /** Wakes the scheduler. */
  wake(): void;
}

/**
 * The job engine. Create one per process, `start()` it, and use its clients.
 *
 * @example
 * ```ts
 * const engine = new JobEngine({ jobTypes: [sendReport], concurrency: 8 });
 * await engine.start();
 * const alice = engine.as({ userId: 'alice', orgId: 'acme', permissions: ['reports:send'] });
 * const job = await alice.submit('send-report', { reportId: 'r1', email: 'a@b.co' });
 * alice.on('job:progress', (e) => console.log(e.progress));
 * await engine.stop();
 * ```
 */
// The default is `any` on purpose: a bare `JobEngine` annotation (e.g. a function taking any
// engine) must accept an engine of any job types; typed code keeps the inferred `T`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class JobEngine<T extends AnyJobType = any> {
  /** The client for trusted code: an admin with userId 'system'; jobs go to `options.orgId` or 'default'. */
  readonly system: JobClient<T>;
  /** This engine's id in leases and history. */
  readonly workerId: string;
  readonly #storage: StorageAdapter;
  readonly #registry: JobRegistry;
  readonly #clock: Clock;
  readonly #emitter = new SafeEmitter();
  readonly #feed: EventFeed;
  readonly #loop: DispatchLoop | null;
  readonly #maintenance: Maintenance;
  readonly #schedules: ScheduleRunner;
  readonly #insertQueue: BatchQueue<SubmitRequest, InsertOutcome>;
  readonly #pollIntervalMs: number;
  readonly #core: EngineCore;
  readonly #health: HealthDeps;
  #state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new';
  #startPromise: Promise<void> | null = null;
  #stopPromise: Promise<void> | null = null;
  #pollTimer: ReturnType<Clock['setTimeout']> | null = null;
  #pollRun: Promise<void> | null = null;
  #unsubscribe: (() => Promise<void>) | null = null;
  /** Waiters (waitFor) to reject when the engine stops. */
  readonly #stopListeners = new Set<() => void>();

  constructor(options: JobEngineOptions<T>) {
    const o = parseOrThrow(optionsSchema, options, 'JobEngine options');
    this.#registry = new JobRegistry(o.jobTypes as AnyJobType[]);
    assertWorkerHasHandlers(this.#registry, o.worker !== false);
    // Every successful write of this engine delivers its events at once (and new claimable
    // jobs wake the scheduler), whichever part made it: one layer, no per-call-site pokes.
    this.#storage = observeWrites(o.storage ?? sqliteStorage({ path: 'jobwing.sqlite' }), (method, result) => {
      if (method === 'insertJobs' || method === 'retryJob' || (method === 'promoteDueJobs' && (result as number) > 0)) this.#loop?.wake();
      this.#feed.poke();
    });
    this.#clock = o.clock ?? systemClock;
    this.workerId = o.workerId ?? randomUUID();
    this.#pollIntervalMs = o.pollIntervalMs ?? 1_000;
    const leaseMs = o.leaseMs ?? 30_000;
    const random = o.random ?? Math.random;
    const payloadLimitBytes = o.limits?.payloadBytes ?? DEFAULT_PAYLOAD_LIMIT_BYTES;
    const reportError = (error: unknown, source: string) => this.#emitter.safeEmit('engine:error', { error, source });
    const instrumentation = new Instrumentation(this.#clock); // counters; spans once jobwing/otel plugs in

    this.#feed = new EventFeed(this.#storage, this.#emitter, reportError);
    this.#loop =
      o.worker === false
        ? null
        : new DispatchLoop({
            storage: this.#storage,
            registry: this.#registry,
            clock: this.#clock,
            workerId: this.workerId,
            concurrency: o.concurrency ?? 4,
            leaseMs,
            pollIntervalMs: this.#pollIntervalMs,
            payloadLimitBytes,
            random,
            reportError,
            instrumentation,
            fairness: o.fairness ?? 'org',
          });
    this.#maintenance = new Maintenance({
      storage: this.#storage,
      registry: this.#registry,
      clock: this.#clock,
      workerId: this.workerId,
      leaseMs,
      retentionMaxAgeMs: o.retention?.maxAgeMs ?? 30 * 86_400_000,
      random,
      reportError,
    });
    const schedules = parseSchedules(o.schedules ?? [], this.#registry);
    // Group commit of independent submits: one transaction (one fsync) per burst.
    this.#insertQueue = createSubmitQueue(this.#storage, this.#clock, this.#loop?.submitClaim);
    const engine = this;
    this.#core = {
      storage: this.#storage,
      registry: this.#registry,
      clock: this.#clock,
      emitter: this.#emitter,
      payloadLimitBytes,
      instrumentation,
      assertStarted: () => {
        if (engine.#state !== 'started') throw new EngineStoppedError(engine.#state === 'new' || engine.#state === 'starting' ? 'The engine is not started; await engine.start() first' : 'The engine is stopped');
      },
      insertOne: (job, actorId) => engine.#insertQueue.add({ job, actorId }),
      abortLocal: (jobId) => engine.#loop?.abortLocal(jobId, 'canceled'),
      claimsSentBefore: async () => engine.#loop?.claimsSentBefore(),
      leaseMs,
      worker: o.worker !== false,
      onStop: (fn) => {
        engine.#stopListeners.add(fn);
        return () => engine.#stopListeners.delete(fn);
      },
      schedules: () => engine.#schedules,
    };
    this.#schedules = new ScheduleRunner({
      storage: this.#storage,
      clock: this.#clock,
      workerId: this.workerId,
      leaseMs,
      pollIntervalMs: this.#pollIntervalMs,
      schedules,
      submitTick: (schedule, fireAt) => submitTick(this.#core, schedule, fireAt),
      reportError,
    });
    this.system = new JobClient<T>(this.#core, { userId: 'system', orgId: 'default', admin: true }, true);
    this.#health = {
      state: () => engine.#state,
      storage: this.#storage,
      clock: this.#clock,
      registry: this.#registry,
      loop: this.#loop,
      maintenance: this.#maintenance,
      concurrency: o.concurrency ?? 4,
      pollIntervalMs: this.#pollIntervalMs,
      leaseMs,
    };
  }

  /**
   * For readiness and liveness probes: store reachable, scheduler loop alive (workers), last
   * successful claim and heartbeat, maintenance leadership. Never rejects; check `ok`.
   * @example
   * ```ts
   * app.get('/healthz', async (_req, res) => {
   *   const h = await engine.health();
   *   res.status(h.ok ? 200 : 503).json(h);
   * });
   * ```
   */
  health(options: HealthOptions = {}): Promise<EngineHealth> {
    const o = parseOrThrow(healthOptionsSchema, options, 'health options');
    return checkHealth(this.#health, o);
  }

  /**
   * A client acting as `actor`: every call is scoped to the actor's org and permissions.
   * @throws ValidationError naming the bad field of `actor`
   */
  as(actor: Actor): JobClient<T> {
    const a = parseOrThrow(actorSchema, actor, 'actor');
    return new JobClient<T>(this.#core, a, false);
  }

  /** Migrates storage, loads job type settings, starts the scheduler loop and maintenance. */
  start(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return Promise.reject(new EngineStoppedError('A stopped engine cannot be restarted; create a new one'));
    this.#startPromise ??= this.#start();
    return this.#startPromise;
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    await this.#storage.migrate();
    this.#registry.applyOverrides(await this.#storage.loadJobTypeSettings());
    await this.#feed.start();
    if (this.#storage.capabilities.pushWake && this.#storage.subscribe) {
      this.#unsubscribe = await this.#storage.subscribe(() => {
        this.#loop?.wake();
        this.#feed.pollSoon();
      });
    }
    this.#state = 'started';
    this.#loop?.start();
    this.#maintenance.start();
    this.#schedules.start();
    this.#schedulePoll();
  }

  /**
   * Graceful stop: no new claims; waits up to `graceMs` for running handlers, then aborts them
   * with 'shutdown' and releases their jobs to `queued`; stops timers and closes the store.
   */
  stop(options: StopOptions = {}): Promise<void> {
    const o = parseOrThrow(stopOptionsSchema, options, 'stop options');
    this.#stopPromise ??= this.#stop(o.graceMs ?? 10_000);
    return this.#stopPromise;
  }

  async #stop(graceMs: number): Promise<void> {
    await this.#startPromise?.catch(() => undefined);
    this.#state = 'stopping';
    this.#emitter.safeEmit('engine:stopping', { graceMs });
    for (const fn of [...this.#stopListeners]) fn();
    if (this.#pollTimer) this.#clock.clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    await this.#pollRun;
    await this.#loop?.stop(graceMs);
    await this.#maintenance.stop();
    await this.#schedules.stop();
    await this.#insertQueue.idle();
    await this.#feed.stop();
    await this.#unsubscribe?.();
    await this.#storage.close();
    this.#state = 'stopped';
  }

  /** Subscribes to every job event on the store (all orgs) or to `engine:error`. */
  on<E extends keyof JobwingEvents>(event: E, listener: JobwingEvents[E]): this {
    this.#emitter.on(event, listener as never);
    return this;
  }

  /** Removes a listener added with {@link JobEngine.on}. */
  off<E extends keyof JobwingEvents>(event: E, listener: JobwingEvents[E]): this {
    this.#emitter.off(event, listener as never);
    return this;
  }

  /** Like {@link JobEngine.on}, for one event only. */
  once<E extends keyof JobwingEvents>(event: E, listener: JobwingEvents[E]): this {
    this.#emitter.once(event, listener as never);
    return this;
  }

  /** @internal */
  get [engineInternals](): EngineInternals {
    return {
      storage: this.#storage,
      clock: this.#clock,
      whenIdle: async () => {
        await this.#schedules.idle(); // a tick in progress submits before the queue is judged idle
        await this.#insertQueue.idle();
        await this.#loop?.whenIdle();
      },
      maintain: async () => {
        await this.#maintenance.tick();
        await this.#maintenance.pruneIdle();
      },
      flushEvents: () => this.#feed.flush(),
      wake: () => this.#loop?.wake(),
    };
  }

  /** Every pollIntervalMs: reload job type settings and read other processes' events. */
  #schedulePoll(): void {
    if (this.#state !== 'started') return;
    this.#pollTimer = this.#clock.setTimeout(() => {
      this.#pollTimer = null;
      // An updateJobType that lands while this read is in flight has applied newer settings.
      const generation = this.#registry.generation;
      this.#pollRun = this.#storage
        .loadJobTypeSettings()
        .then((s) => {
          if (this.#registry.generation === generation) this.#registry.applyOverrides(s);
        })
        .catch((error: unknown) => this.#emitter.safeEmit('engine:error', { error, source: 'registry' }))
        .finally(() => {
          this.#pollRun = null;
          this.#feed.poll();
          this.#schedulePoll();
        });
    }, this.#pollIntervalMs);
  }
}
