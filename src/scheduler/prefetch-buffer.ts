/**
 * Claim-ahead: jobs this worker claimed (leased, `running` in the store) whose handler has not
 * started yet, because every slot was busy. A finishing handler's slot takes the next one at
 * once, without waiting for its own settle to commit, and claims carry more jobs per
 * transaction (the store's per-commit cost, not the per-job one, dominated short jobs:
 * 16 → 64 jobs per settle-and-claim transaction cut the store's cost per job by a quarter).
 *
 * Bounded three ways, so that `running` stays a truthful word for a prefetched job:
 * - only while handlers are short (a moving average of recent handler durations under
 *   {@link SHORT_HANDLER_MS}): a prefetched job then waits about one short handler for a slot;
 * - never while a type this worker runs is capped, rate-limited or paused (a prefetched job
 *   would hold a slot of the cap, or count as a start, without running; the loop decides);
 * - a prefetched job that waited {@link PREFETCH_MAX_WAIT_FRACTION} of the lease is handed back
 *   (`released` to `queued`) for any worker to take.
 * Order: the buffer keeps claim order (priority, runAt, submission), so a newly claimed
 * `critical` job goes ahead of prefetched `low` ones.
 */
import { PRIORITY_RANK, type AbortReason } from '../states.js';
import type { ClaimedJob } from '../storage/adapter.js';
import type { LeasedAttempt } from './lease-keeper.js';

/** A handler shorter than this (moving average, wall time) makes prefetching worthwhile. */
export const SHORT_HANDLER_MS = 20;
/** Handler durations observed before prefetching starts (no guess from a cold start). */
const WARM_UP_SAMPLES = 8;
/** Prefetch depth: this many jobs beyond the free slots, and at least {@link MIN_DEPTH}. */
const MIN_DEPTH = 32;
/**
 * Most jobs one claim takes, and most settles one batch carries: one transaction runs in the
 * host's thread (SQLite), so its size bounds how long it holds the event loop (64 settles and
 * a claim: about 4 ms on a 2-core machine). Why 64, not 32: a busy drain fills every settle
 * batch to the cap, and SQLite's cost per commit (the WAL pages every index dirties) is paid
 * per batch. 32 → 64, alternating runs on one machine (2026-12-03): the drain at concurrency 16
 * 1.05–1.4× faster (NORMAL and FULL; bench/run.ts and bench:compare), at the price of ~5 ms
 * more event-loop delay p99 (GC keeps more in flight; docs/performance.md). A deeper
 * look-ahead ({@link MIN_DEPTH} 64) gave nothing on top.
 */
export const MAX_JOBS_PER_TRANSACTION = 64;
/** A prefetched job still waiting after this fraction of `leaseMs` is handed back. */
export const PREFETCH_MAX_WAIT_FRACTION = 1 / 3;

interface Entry {
  claimed: ClaimedJob;
  /** Stable per entry: the lease keeper matches attempts by identity. */
  lease: LeasedAttempt;
  rank: number;
  runAt: number;
  order: number;
  /** Engine clock when it was claimed. */
  at: number;
}

/** The claimed-but-not-started jobs of one dispatch loop, in claim order. */
export class PrefetchBuffer {
  readonly #entries: Entry[] = [];
  #order = 0;
  #avgMs = 0;
  #samples = 0;

  /**
   * @param onAbort a heartbeat found a waiting job canceled or its lease lost: the job has
   *   already been taken out of the buffer; it must not start.
   */
  constructor(
    private readonly concurrency: number,
    private readonly onAbort: (claimed: ClaimedJob, reason: AbortReason) => void,
  ) {}

  get size(): number {
    return this.#entries.length;
  }

  /** How many jobs a claim may take beyond the free slots now (0 while handlers are long). */
  depth(): number {
    if (this.#samples < WARM_UP_SAMPLES || this.#avgMs >= SHORT_HANDLER_MS) return 0;
    return Math.max(this.concurrency, MIN_DEPTH);
  }

  /** Records how long one handler took (wall time, ms). */
  observe(durationMs: number): void {
    this.#samples++;
    // Exponential moving average over roughly the last 16 handlers.
    this.#avgMs = this.#samples === 1 ? durationMs : this.#avgMs + (durationMs - this.#avgMs) / 16;
  }

  /** Adds claimed jobs, keeping claim order across claims. */
  add(claimed: readonly ClaimedJob[], now: number): void {
    for (const c of claimed) {
      const lease: LeasedAttempt = {
        job: c.job,
        attempt: c.attempt,
        abort: (reason) => {
          if (this.remove(c.job.id)) this.onAbort(c, reason);
        },
      };
      this.#entries.push({ claimed: c, lease, rank: PRIORITY_RANK[c.job.priority], runAt: c.job.runAt.getTime(), order: this.#order++, at: now });
    }
    this.#entries.sort((a, b) => a.rank - b.rank || a.runAt - b.runAt || a.order - b.order);
  }

  /** The next job to start, or undefined. */
  shift(): ClaimedJob | undefined {
    return this.#entries.shift()?.claimed;
  }

  /** Removes a job (canceled or its lease lost while it waited); true if it was here. */
  remove(jobId: string): boolean {
    const i = this.#entries.findIndex((e) => e.claimed.job.id === jobId);
    if (i < 0) return false;
    this.#entries.splice(i, 1);
    return true;
  }

  /** The leases to renew while the jobs wait. */
  leases(): LeasedAttempt[] {
    return this.#entries.map((e) => e.lease);
  }

  /** Takes out every job claimed at or before `claimedBy` (all of them when omitted). */
  takeWaitingSince(claimedBy = Infinity): ClaimedJob[] {
    const out: ClaimedJob[] = [];
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (this.#entries[i]!.at <= claimedBy) out.unshift(this.#entries.splice(i, 1)[0]!.claimed);
    }
    return out;
  }
}
