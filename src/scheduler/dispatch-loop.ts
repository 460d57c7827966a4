/**
 * The scheduler loop: free slots → claim (priority, runAt, submission order) → run.
 * Wakes at once on a local submit, a finished job or a store notice; otherwise sleeps until
 * the next due job or `pollIntervalMs`, whichever comes first. Settles are group-committed,
 * and where the store can, a settle batch claims the next jobs in the same transaction.
 *
 * Two paths claim: the claim loop and the settle path. Why together they never exceed
 * `concurrency`: a claim reserves the free slots it asks for before it goes to the store
 * (`#reserved`), and both paths count `running + reserved`; the reservation is released in
 * the same synchronous step that starts the claimed runners.
 * Why nothing starts once `stop()` began: every claimed job passes `#admit`, which releases
 * (hands back to `queued`, unstarted) whatever a claim in flight returns after that point.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { BatchQueue } from '../batch-queue.js';
import type { Instrumentation } from '../instrumentation.js';
import type { JobRegistry } from '../registry.js';
import type { ClaimedJob, ClaimJobsRequest, SettleOutcome, SettleRequest, StorageAdapter } from '../storage/adapter.js';
import { JobRunner } from './job-runner.js';
import { IsolationPool } from '../isolation/isolation-pool.js';
import { LeaseKeeper } from './lease-keeper.js';

/** Options of the loop, taken from the engine's options. */
export interface DispatchLoopOptions {
  storage: StorageAdapter;
  registry: JobRegistry;
  clock: Clock;
  workerId: string;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  payloadLimitBytes: number;
  random: () => number;
  reportError(error: unknown, source: string): void;
  instrumentation: Instrumentation;
  /** Order among orgs within one priority level (see ClaimJobsRequest.fairness). */
  fairness: 'org' | 'none';
}

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Claims and runs jobs while started. */
export class DispatchLoop {
  readonly #o: DispatchLoopOptions;
  readonly #runners = new Map<string, { runner: JobRunner; done: Promise<void> }>();
  readonly #settleQueue: BatchQueue<SettleRequest, SettleOutcome>;
  readonly #leaseKeeper: LeaseKeeper;
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #timer: TimerHandle | null = null;
  #tick: Promise<void> | null = null;
  #wakeScheduled = false;
  #again = false;
  /** True when the last claim found fewer jobs than free slots (nothing more is due). */
  #exhausted = false;
  /** Slots promised to claims in flight (claim loop or settle path); see the module comment. */
  #reserved = 0;
  #abandonSettles = false;
  #idleWaiters: (() => void)[] = [];
  /** When a claim last succeeded (epoch ms, engine clock), for `engine.health()`. */
  #lastClaimAt: number | null = null;
  /** Worker threads of isolated job types; threads start lazily, all end in stop(). */
  readonly #isolation: IsolationPool;

  constructor(options: DispatchLoopOptions) {
    this.#o = options;
    this.#isolation = new IsolationPool({ maxThreads: options.concurrency });
    // A settle batch succeeds or fails as a whole (it retries until it succeeds or the loop stops).
    this.#settleQueue = new BatchQueue(async (reqs) => (await this.#settleWithRetry(reqs)).map((value) => ({ ok: true as const, value })), 500);
    this.#leaseKeeper = new LeaseKeeper({
      storage: options.storage,
      clock: options.clock,
      workerId: options.workerId,
      leaseMs: options.leaseMs,
      runners: () => [...this.#runners.values()].map((r) => r.runner),
      reportError: options.reportError,
    });
  }

  /** Number of attempts running in this process. */
  get runningCount(): number {
    return this.#runners.size;
  }

  /** What `engine.health()` reports of the loop. */
  get status(): { running: boolean; lastClaimAt: number | null; lastHeartbeatAt: number | null } {
    return { running: this.#state === 'running', lastClaimAt: this.#lastClaimAt, lastHeartbeatAt: this.#leaseKeeper.lastHeartbeatAt };
  }

  start(): void {
    this.#state = 'running';
    this.#abandonSettles = false;
    this.#leaseKeeper.start();
    this.wake();
  }

  /** Claims as soon as possible (a submit, a freed slot or a store notice). */
  wake(): void {
    if (this.#state !== 'running') return;
    this.#exhausted = false;
    if (this.#tick) {
      this.#again = true;
      return;
    }
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    if (this.#timer) {
      this.#o.clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
    // Yield to the event loop first: a burst of wake-ups becomes one claim.
    setImmediate(() => {
      this.#wakeScheduled = false;
      if (this.#state !== 'running' || this.#tick) return;
      this.#tick = this.#claimLoop().finally(() => {
        this.#tick = null;
        if (this.#again) {
          this.#again = false;
          this.wake();
        } else this.#notifyIdle();
      });
    });
  }

  /** Aborts the local attempt of `jobId`, if this process runs it (fast path of cancel). */
  abortLocal(jobId: string, reason: 'canceled'): void {
    this.#runners.get(jobId)?.runner.abort(reason);
  }

  /**
   * Resolves when nothing due is left to claim and nothing runs in this process
   * (used by `drain()` in jobwing/testing).
   */
  async whenIdle(): Promise<void> {
    for (;;) {
      if (this.#state !== 'running') return;
      if (!this.#tick && !this.#wakeScheduled && this.#exhausted && this.#runners.size === 0) {
        await this.#settleQueue.idle();
        if (this.#runners.size === 0 && this.#exhausted && !this.#tick && !this.#wakeScheduled) return;
      }
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /**
   * Graceful stop: no new claims; waits for running attempts up to `graceMs`, then aborts the
   * rest with 'shutdown' (they are released back to `queued`), and flushes pending settles.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'idle') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#tick;
    let graceOver = false;
    const endGrace = () => {
      graceOver = true;
      for (const { runner } of this.#runners.values()) runner.abort('shutdown');
    };
    // graceMs 0 aborts at once, without a timer (also under a fake clock nobody advances).
    const grace = graceMs > 0 ? this.#o.clock.setTimeout(endGrace, graceMs) : null;
    if (!grace) endGrace();
    await Promise.all([...this.#runners.values()].map((r) => r.done));
    // Settles still failing after the grace period are abandoned: the leases expire and
    // another engine's rescuer takes those jobs over.
    if (grace) this.#o.clock.clearTimeout(grace);
    if (graceOver) this.#abandonSettles = true;
    else {
      const abandon = this.#o.clock.setTimeout(() => (this.#abandonSettles = true), graceMs);
      await this.#settleQueue.idle();
      this.#o.clock.clearTimeout(abandon);
    }
    await this.#settleQueue.idle();
    await this.#leaseKeeper.stop();
    await this.#isolation.close();
    // The store closes after this: a settle still retrying must give up, not loop forever.
    this.#abandonSettles = true;
    this.#state = 'stopped';
    this.#notifyIdle();
  }

  /** What to claim: the implemented types with the limits in force (the store enforces them). */
  #claimRequest(limit: number): ClaimJobsRequest {
    const { registry, clock, workerId, leaseMs, fairness } = this.#o;
    const limits = registry.claimLimits();
    return { workerId, types: registry.implementedNames(), limit, now: clock.now(), leaseMs, fairness, ...(limits.length > 0 ? { limits } : {}) };
  }

  /** Slots neither running nor promised to a claim in flight. */
  #freeSlots(): number {
    return this.#o.concurrency - this.#runners.size - this.#reserved;
  }

  async #claimLoop(): Promise<void> {
    const { storage, clock } = this.#o;
    for (;;) {
      this.#again = false;
      const free = this.#freeSlots();
      if (free <= 0 || this.#state !== 'running') return; // a finishing attempt wakes us
      let claimed;
      this.#reserved += free;
      try {
        claimed = await storage.claimJobs(this.#claimRequest(free));
        this.#lastClaimAt = clock.now();
      } catch (error) {
        this.#reserved -= free;
        this.#o.reportError(error, 'claim');
        this.#sleep(this.#o.pollIntervalMs);
        return;
      }
      this.#reserved -= free;
      await this.#admit(claimed);
      if (this.#state !== 'running') return;
      if (claimed.length < free) {
        if (this.#again) continue; // a submit arrived during the claim
        this.#exhausted = true;
        await this.#sleepUntilNextDue();
        return;
      }
      await nextMacrotask(); // never hold the event loop across batches
    }
  }

  /**
   * The one place claimed jobs go: started while the loop runs, else released unstarted
   * (a claim that was in flight when `stop()` began), so stop never leaves them `running`.
   */
  async #admit(claimed: ClaimedJob[]): Promise<void> {
    if (claimed.length === 0) return;
    if (this.#state === 'running') {
      for (const c of claimed) this.#startRunner(c);
      return;
    }
    const { storage, clock, workerId, reportError } = this.#o;
    const settles: SettleRequest[] = claimed.map((c) => ({
      jobId: c.job.id,
      attempt: c.attempt,
      outcome: { kind: 'released', message: 'Released unstarted: the worker was shutting down when the claim returned' },
      actorId: `engine:${workerId}`,
    }));
    try {
      await storage.settleJobs({ settles, now: clock.now() });
    } catch (error) {
      // The leases expire and another engine's rescuer requeues the jobs.
      reportError(error, 'settle');
    }
  }

  #startRunner(claimed: ClaimedJob): void {
    // Claims are restricted to implemented types, so the lookup cannot miss.
    const type = this.#o.registry.runnable(claimed.job.type);
    const runner = new JobRunner(claimed, type, {
      storage: this.#o.storage,
      clock: this.#o.clock,
      workerId: this.#o.workerId,
      payloadLimitBytes: this.#o.payloadLimitBytes,
      random: this.#o.random,
      instrumentation: this.#o.instrumentation,
      settle: (req) => this.#settleQueue.add(req),
      reportError: this.#o.reportError,
      isolation: this.#isolation,
    });
    const done = runner.run().finally(() => {
      this.#runners.delete(claimed.job.id);
      this.wake();
      this.#notifyIdle();
    });
    this.#runners.set(claimed.job.id, { runner, done });
  }

  async #sleepUntilNextDue(): Promise<void> {
    const { clock, pollIntervalMs } = this.#o;
    let delay = pollIntervalMs;
    try {
      const due = await this.#o.storage.nextDueAt();
      if (due !== null) delay = Math.min(pollIntervalMs, Math.max(0, due - clock.now()));
    } catch (error) {
      this.#o.reportError(error, 'next-due');
    }
    this.#sleep(delay);
  }

  #sleep(ms: number): void {
    if (this.#state !== 'running') return;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      this.wake();
    }, ms);
  }

  /**
   * Writes a batch of settles, retrying store errors with backoff (R9) until it succeeds.
   * When the store can, the same transaction claims jobs for the slots this batch frees.
   */
  async #settleWithRetry(reqs: SettleRequest[]): Promise<SettleOutcome[]> {
    let delay = 50;
    for (;;) {
      try {
        return await this.#settleOnce(reqs);
      } catch (error) {
        this.#o.reportError(error, 'settle');
        if (this.#abandonSettles || this.#state === 'stopped') throw error;
        await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  async #settleOnce(reqs: SettleRequest[]): Promise<SettleOutcome[]> {
    const { storage, clock } = this.#o;
    // The claim may take the free slots (reserved now) plus the slots this batch's attempts
    // free when it commits (their runners stay in the map until then).
    const extra = Math.max(0, this.#freeSlots());
    const limit = extra + reqs.length;
    // Safe beside a claim loop tick in flight: both count the other's reservation.
    if (!storage.settleAndClaim || this.#state !== 'running') {
      return storage.settleJobs({ settles: reqs, now: clock.now() });
    }
    this.#reserved += extra;
    let result;
    try {
      result = await storage.settleAndClaim({
        settles: reqs,
        claim: this.#claimRequest(limit),
      });
    } finally {
      this.#reserved -= extra;
    }
    const { settled, claimed } = result;
    this.#lastClaimAt = clock.now();
    if (claimed.length < limit) this.#exhausted = true;
    await this.#admit(claimed);
    return settled;
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
