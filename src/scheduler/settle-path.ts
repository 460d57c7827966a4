/**
 * The settle path: finished attempts are group-committed (one store call per batch), store
 * errors are retried with backoff until the write succeeds or the loop gives up (R9), and,
 * where the store can, the same transaction claims jobs for the free slots
 * (`settleAndClaim`), so a busy worker makes one transaction per batch instead of two.
 */
import { BatchQueue } from '../batch-queue.js';
import type { Clock } from '../clock.js';
import type { ClaimedJob, ClaimJobsRequest, SettleOutcome, SettleRequest, StorageAdapter } from '../storage/adapter.js';

/** A claim that rides along with a settle batch, begun and ended by the dispatch loop. */
export interface ClaimAlong {
  /**
   * Reserves free slots and returns the claim to make, or null (stopping, or no free slot).
   * `settles`: how many settles commit in the claim's transaction (their room is free by then).
   */
  begin(settles: number): ClaimJobsRequest | null;
  /** Releases the reservation; `claimed` is null when the transaction failed. */
  end(request: ClaimJobsRequest, claimed: ClaimedJob[] | null): Promise<void>;
}

export interface SettlePathOptions {
  storage: StorageAdapter;
  clock: Clock;
  reportError(error: unknown, source: string): void;
  claimAlong: ClaimAlong;
  /** Largest batch per transaction. */
  maxBatch?: number;
}

/** Group-committed, retried settles of one dispatch loop. */
export class SettlePath {
  readonly #o: SettlePathOptions;
  readonly #queue: BatchQueue<SettleRequest, SettleOutcome>;
  /** Once set, a failing batch is given up instead of retried (stop, after its grace). */
  #abandoned = false;

  constructor(options: SettlePathOptions) {
    this.#o = options;
    // A settle batch succeeds or fails as a whole (it retries until it succeeds or is abandoned).
    this.#queue = new BatchQueue(async (reqs) => (await this.#settleWithRetry(reqs)).map((value) => ({ ok: true as const, value })), options.maxBatch ?? 500);
  }

  /** Queues one settle; resolves once its batch committed. */
  add(req: SettleRequest): Promise<SettleOutcome> {
    return this.#queue.add(req);
  }

  /** Resolves when nothing is pending or in flight. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Whether failing batches are given up instead of retried. */
  set abandoned(value: boolean) {
    this.#abandoned = value;
  }

  async #settleWithRetry(reqs: SettleRequest[]): Promise<SettleOutcome[]> {
    let delay = 50;
    for (;;) {
      try {
        return await this.#settleOnce(reqs);
      } catch (error) {
        this.#o.reportError(error, 'settle');
        if (this.#abandoned) throw error;
        await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  async #settleOnce(reqs: SettleRequest[]): Promise<SettleOutcome[]> {
    const { storage, clock, claimAlong } = this.#o;
    const claim = storage.settleAndClaim ? claimAlong.begin(reqs.length) : null;
    if (!claim || !storage.settleAndClaim) return storage.settleJobs({ settles: reqs, now: clock.now() });
    let result;
    try {
      result = await storage.settleAndClaim({ settles: reqs, claim });
    } catch (error) {
      await claimAlong.end(claim, null);
      throw error;
    }
    await claimAlong.end(claim, result.claimed);
    return result.settled;
  }
}
