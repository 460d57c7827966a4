/**
 * The scheduler loop: free slots → claim (priority, runAt, submission order) → run.
 *
 * Who wakes it: a local submit, a handler that finished, a store notice (another process
 * wrote), or its own timer: the next due job or `pollIntervalMs`, whichever comes first.
 * Where jobs go: every claimed job passes `#admit` into the prefetch buffer (claim-ahead,
 * see prefetch-buffer.ts), and `#pump` is the one place that starts handlers.
 * Three paths claim: the claim loop, the settle path (a settle batch claims for the free
 * slots in the same transaction, settle-path.ts) and a local submit (`submitClaim`: the
 * insert and the claim in one transaction, submit-queue.ts).
 *
 * Why handlers never exceed `concurrency`: `#pump` starts one only while a slot is free
 * (`Slots`, slots.ts: busy handlers under `concurrency`), and a slot frees when its handler is
 * over (before its settle commits, so the next job starts at once). Why claims never take more
 * than the room: a claim reserves the room it asks for before it goes to the store, and both
 * paths count `busy + buffered + reserved`; the reservation ends in the step that buffers the jobs.
 * Why claims never outrun settles: finished attempts waiting for their settle beyond two batches
 * take room too (slots.ts, `SETTLING_ALLOWANCE`), so a fast drain holds a bounded set of jobs.
 * Why nothing starts once `stop()` began: `#admit` releases (back to `queued`, unstarted)
 * whatever a claim in flight returns after that point, and stop releases the buffer.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Instrumentation } from '../instrumentation.js';
import type { JobRegistry } from '../registry.js';
import type { ClaimedJob, ClaimJobsRequest, InsertAndClaimResult, SettleRequest, StorageAdapter } from '../storage/adapter.js';
import type { SubmitClaim } from '../submit-queue.js';
import { nextTurn, onNextTurn } from '../next-turn.js';
import { JobRunner } from './job-runner.js';
import { IsolationPool } from '../isolation/isolation-pool.js';
import { LeaseKeeper, type LeasedAttempt } from './lease-keeper.js';
import { MAX_JOBS_PER_TRANSACTION, PREFETCH_MAX_WAIT_FRACTION, PrefetchBuffer } from './prefetch-buffer.js';
import { SettlePath } from './settle-path.js';
import { Slots } from './slots.js';

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

/**
 * Due jobs each claim promotes first, in the claim's transaction (ClaimJobsRequest.promoteDue): a due retry or snooze is claimed
 * by the next claim, in priority order, with no extra commit; bounded so one claim never turns
 * into an unbounded write.
 */
export const PROMOTE_PER_CLAIM = 1000;

/** Claims and runs jobs while started. */
export class DispatchLoop {
  readonly #o: DispatchLoopOptions;
  /** Every attempt from its start until its settle committed. */
  readonly #runners = new Map<string, { runner: JobRunner; done: Promise<void> }>();
  /** Handlers running, finished attempts waiting for their settle, room reserved, "claimed short". */
  readonly #slots: Slots;
  readonly #buffer: PrefetchBuffer;
  readonly #settles: SettlePath;
  readonly #leaseKeeper: LeaseKeeper;
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #timer: TimerHandle | null = null;
  #tick: Promise<void> | null = null;
  #wakeScheduled = false;
  #again = false;
  /** Claims sent to the store and not back yet (either path), each resolved when it is. */
  readonly #claimsInFlight = new Map<ClaimJobsRequest, { back: Promise<void>; done(): void }>();
  #idleWaiters: (() => void)[] = [];
  /** When a claim last succeeded (epoch ms, engine clock), for `engine.health()`. */
  #lastClaimAt: number | null = null;
  /** Worker threads of isolated job types; threads start lazily, all end in stop(). */
  readonly #isolation: IsolationPool;

  constructor(options: DispatchLoopOptions) {
    this.#o = options;
    this.#slots = new Slots(options.concurrency);
    this.#isolation = new IsolationPool({ maxThreads: options.concurrency });
    // A prefetched job canceled or lost while it waited: the store already moved on; drop it.
    this.#buffer = new PrefetchBuffer(options.concurrency, () => this.#notifyIdle());
    this.#settles = new SettlePath({
      storage: options.storage,
      clock: options.clock,
      reportError: options.reportError,
      maxBatch: MAX_JOBS_PER_TRANSACTION,
      claimAlong: {
        begin: (settles) => {
          if (this.#state !== 'running') return null;
          const request = this.#claimRequest(settles);
          if (request.limit <= 0) return null;
          this.#sent(request);
          return request;
        },
        end: async (request, claimed) => {
          this.#back(request);
          if (claimed === null) return;
          this.#lastClaimAt = options.clock.now();
          this.#slots.claimed(request.limit, claimed.length);
          await this.#admit(claimed);
        },
      },
    });
    this.#leaseKeeper = new LeaseKeeper({
      storage: options.storage,
      clock: options.clock,
      workerId: options.workerId,
      leaseMs: options.leaseMs,
      attempts: (): LeasedAttempt[] => [...[...this.#runners.values()].map((r) => r.runner), ...this.#buffer.leases()],
      beforeBeat: () => this.#releaseStaleBuffered(),
      reportError: options.reportError,
    });
  }

  /**
   * The claim a local submit carries into its insert transaction (submit-queue.ts). The loop
   * is not woken for such a submit unless the claim may have left work behind: it came back
   * full (more may be claimable), failed (its reservation may have kept the loop from
   * claiming), or a job was inserted for later (the loop's timer must move to it).
   */
  readonly submitClaim: SubmitClaim = {
    begin: () => {
      if (this.#state !== 'running') return null;
      const request = this.#claimRequest();
      if (request.limit <= 0) return null;
      this.#sent(request);
      return request;
    },
    end: async (request, result) => {
      this.#back(request);
      if (result === null) return this.wake();
      this.#lastClaimAt = this.#o.clock.now();
      this.#slots.claimed(request.limit, result.claimed.length);
      // Handlers start at once: a job may begin before its `submit()` resolves (as it may on
      // another worker process), which saves a turn (~0.17 ms) behind the event read.
      await this.#admit(result.claimed);
      if (result.claimed.length >= request.limit || insertedForLater(result)) this.wake();
    },
  };

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
    this.#settles.abandoned = false;
    this.#leaseKeeper.start();
    this.wake();
  }

  /** Claims as soon as possible (a submit, a freed slot or a store notice). */
  wake(): void {
    if (this.#state !== 'running') return;
    this.#slots.woke();
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
    onNextTurn(() => {
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

  /**
   * Resolves when every claim sent to the store before this call is back. A settings change
   * waits for it: a claim built with the old limits must not reach the store after the caller,
   * told the change is in force, submits new jobs (they would be claimed under the old limits).
   */
  async claimsSentBefore(): Promise<void> {
    await Promise.all([...this.#claimsInFlight.values()].map((c) => c.back));
  }

  /** A claim goes to the store: its room is reserved and it counts as in flight. */
  #sent(request: ClaimJobsRequest): void {
    this.#slots.reserve(request.limit);
    let done!: () => void;
    const back = new Promise<void>((resolve) => (done = resolve));
    this.#claimsInFlight.set(request, { back, done });
  }

  /** The claim is back (or failed): its reservation ends, in the step that buffers its jobs. */
  #back(request: ClaimJobsRequest): void {
    this.#slots.unreserve(request.limit);
    this.#claimsInFlight.get(request)?.done();
    this.#claimsInFlight.delete(request);
  }

  /** Aborts the local attempt of `jobId`, if this process runs it (fast path of cancel). */
  abortLocal(jobId: string, reason: 'canceled'): void {
    const r = this.#runners.get(jobId);
    if (r) r.runner.abort(reason);
    else if (this.#buffer.remove(jobId)) this.#notifyIdle(); // prefetched: it never starts
  }

  /**
   * Resolves when nothing due is left to claim and nothing runs in this process
   * (used by `drain()` in jobwing/testing).
   */
  async whenIdle(): Promise<void> {
    const quiet = () => !this.#tick && !this.#wakeScheduled && this.#slots.exhausted && this.#runners.size === 0 && this.#buffer.size === 0;
    for (;;) {
      if (this.#state !== 'running') return;
      if (quiet()) {
        await this.#settles.idle();
        if (quiet()) return;
      }
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /**
   * Graceful stop: no new claims; prefetched jobs go back to `queued` at once; waits for
   * running attempts up to `graceMs`, then aborts the rest with 'shutdown' (they are released
   * back to `queued`), and flushes pending settles.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'idle') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#release(this.#buffer.takeWaitingSince(), 'the worker was shutting down');
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
    if (graceOver) this.#settles.abandoned = true;
    else {
      const abandon = this.#o.clock.setTimeout(() => (this.#settles.abandoned = true), graceMs);
      await this.#settles.idle();
      this.#o.clock.clearTimeout(abandon);
    }
    await this.#settles.idle();
    await this.#leaseKeeper.stop();
    await this.#isolation.close();
    // The store closes after this: a settle still retrying must give up, not loop forever.
    this.#settles.abandoned = true;
    this.#state = 'stopped';
    this.#notifyIdle();
  }

  /**
   * The next claim: the implemented types with the limits in force (the store enforces them),
   * promoting due jobs first, for the room left: free slots, plus the prefetch depth when no type is limited (a
   * prefetched job would hold a capped slot, or count as a start, without running).
   */
  #claimRequest(settlingAlong = 0): ClaimJobsRequest {
    const { registry, clock, workerId, leaseMs, fairness } = this.#o;
    const limits = registry.claimLimits();
    const depth = limits.length > 0 ? 0 : this.#buffer.depth();
    const room = this.#slots.room(this.#buffer.size, depth, settlingAlong);
    const limit = Math.min(room, MAX_JOBS_PER_TRANSACTION);
    const request = { workerId, types: registry.implementedNames(), limit, now: clock.now(), leaseMs, promoteDue: PROMOTE_PER_CLAIM, fairness };
    return limits.length > 0 ? { ...request, limits } : request;
  }

  async #claimLoop(): Promise<void> {
    const { storage, clock } = this.#o;
    for (;;) {
      this.#again = false;
      const request = this.#claimRequest();
      if (request.limit <= 0 || this.#state !== 'running') return; // a finishing attempt wakes us
      let claimed;
      this.#sent(request);
      try {
        claimed = await storage.claimJobs(request);
        this.#lastClaimAt = clock.now();
      } catch (error) {
        this.#back(request);
        this.#o.reportError(error, 'claim');
        this.#sleep(this.#o.pollIntervalMs);
        return;
      }
      this.#back(request);
      await this.#admit(claimed);
      if (this.#state !== 'running') return;
      if (claimed.length < request.limit) {
        if (this.#again) continue; // a submit arrived during the claim
        this.#slots.claimed(request.limit, claimed.length);
        await this.#sleepUntilNextDue();
        return;
      }
      await nextTurn(); // never hold the event loop across batches
    }
  }

  /**
   * The one place claimed jobs go: buffered and started while the loop runs, else released
   * unstarted (a claim that was in flight when `stop()` began), so stop never leaves them `running`.
   */
  async #admit(claimed: ClaimedJob[]): Promise<void> {
    if (claimed.length === 0) return;
    if (this.#state === 'running') {
      this.#buffer.add(claimed, this.#o.clock.now());
      this.#pump();
      return;
    }
    await this.#release(claimed, 'the worker was shutting down when the claim returned');
  }

  /** Hands claimed, unstarted jobs back to `queued` (their leases would expire otherwise). */
  async #release(claimed: ClaimedJob[], why: string): Promise<void> {
    if (claimed.length === 0) return;
    const { storage, clock, workerId, reportError } = this.#o;
    const settles: SettleRequest[] = claimed.map((c) => ({
      jobId: c.job.id,
      attempt: c.attempt,
      outcome: { kind: 'released', message: `Released unstarted: ${why}` },
      actorId: `engine:${workerId}`,
    }));
    try {
      await storage.settleJobs({ settles, now: clock.now() });
    } catch (error) {
      // The leases expire and another engine's rescuer requeues the jobs.
      reportError(error, 'settle');
    }
    this.#notifyIdle();
  }

  /** Prefetched jobs that waited too long for a slot (handlers got long) go back for anyone. */
  #releaseStaleBuffered(): Promise<void> {
    const { clock, leaseMs } = this.#o;
    const stale = this.#buffer.takeWaitingSince(clock.now() - leaseMs * PREFETCH_MAX_WAIT_FRACTION);
    return this.#release(stale, 'prefetched, but no slot of this worker freed in time');
  }

  /** The one place handlers start: from the buffer, while a slot is free. */
  #pump(): void {
    while (this.#state === 'running' && this.#slots.free) {
      const next = this.#buffer.shift();
      if (!next) return;
      this.#startRunner(next);
    }
  }

  #startRunner(claimed: ClaimedJob): void {
    // Claims are restricted to implemented types, so the lookup cannot miss.
    const type = this.#o.registry.runnable(claimed.job.type);
    let busy = true;
    const slotFree = () => {
      if (!busy) return;
      busy = false;
      this.#slots.finish();
      this.#pump();
    };
    this.#slots.start();
    const runner = new JobRunner(claimed, type, {
      storage: this.#o.storage,
      clock: this.#o.clock,
      workerId: this.#o.workerId,
      payloadLimitBytes: this.#o.payloadLimitBytes,
      random: this.#o.random,
      instrumentation: this.#o.instrumentation,
      settle: (req) => this.#settles.add(req),
      reportError: this.#o.reportError,
      isolation: this.#isolation,
      handlerDone: (durationMs) => {
        this.#buffer.observe(durationMs);
        slotFree();
      },
    });
    const done = runner.run().finally(() => {
      this.#runners.delete(claimed.job.id);
      slotFree();
      this.#slots.settled();
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

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Some job of the submit was inserted to run later (`scheduled`): the loop's timer must know. */
function insertedForLater(result: InsertAndClaimResult): boolean {
  return result.inserted.some((o) => o.kind === 'inserted' && o.job.status === 'scheduled');
}
