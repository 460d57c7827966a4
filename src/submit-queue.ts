/**
 * The submit queue: independent `submit()` calls made close together are written in one
 * store call per actor (one transaction, one fsync per burst), while each caller's outcome
 * stays its own (review defect 14): when a store call throws, its jobs are retried one by
 * one, so a job that cannot be written fails alone and no caller is told "failed" for a job
 * that committed.
 *
 * Where the store offers `insertAndClaim` and this engine's worker has room, the burst and the
 * claim for that room go in one transaction ({@link SubmitClaim}): a submit to an idle worker
 * pays one commit (one fsync) before its handler starts, not two.
 */
import { BatchQueue, type Settled } from './batch-queue.js';
import type { Clock } from './clock.js';
import type { ClaimJobsRequest, InsertAndClaimResult, InsertOutcome, NewJob, StorageAdapter } from './storage/adapter.js';

/** One queued submit. */
export interface SubmitRequest {
  job: NewJob;
  actorId: string;
}

/** The claim a burst of submits carries, begun and ended by this engine's dispatch loop. */
export interface SubmitClaim {
  /** Reserves the worker's room and returns the claim to make, or null (no room, stopping). */
  begin(): ClaimJobsRequest | null;
  /** Releases the reservation and admits the claimed jobs; `result` null: the call failed. */
  end(request: ClaimJobsRequest, result: InsertAndClaimResult | null): Promise<void>;
}

/**
 * Creates the queue over `storage`; `add()` resolves with that submit's own outcome.
 * `claim`: the worker's submit claim (absent on a `worker: false` engine).
 */
export function createSubmitQueue(storage: StorageAdapter, clock: Clock, claim?: SubmitClaim): BatchQueue<SubmitRequest, InsertOutcome> {
  const insert = async (jobs: NewJob[], actorId: string): Promise<InsertOutcome[]> => {
    const request = storage.insertAndClaim && claim ? claim.begin() : null;
    if (!request || !storage.insertAndClaim || !claim) return storage.insertJobs({ jobs, actorId, now: clock.now(), atomic: false });
    let result: InsertAndClaimResult;
    try {
      result = await storage.insertAndClaim({ insert: { jobs, actorId, now: request.now, atomic: false }, claim: request });
    } catch (error) {
      await claim.end(request, null);
      throw error;
    }
    await claim.end(request, result);
    return result.inserted;
  };

  return new BatchQueue<SubmitRequest, InsertOutcome>(async (reqs) => {
    const out: Settled<InsertOutcome>[] = new Array(reqs.length);
    let i = 0;
    while (i < reqs.length) {
      // One actor per store call keeps history exact; bursts are almost always one actor.
      const actorId = reqs[i]!.actorId;
      let j = i;
      while (j < reqs.length && reqs[j]!.actorId === actorId) j++;
      const group = reqs.slice(i, j).map((r) => r.job);
      try {
        (await insert(group, actorId)).forEach((r, k) => (out[i + k] = { ok: true, value: r }));
      } catch (error) {
        // The call wrote nothing (store methods are atomic); find the job(s) it was about.
        if (group.length === 1) out[i] = { ok: false, error };
        else {
          for (let k = 0; k < group.length; k++) {
            try {
              out[i + k] = { ok: true, value: (await insert([group[k]!], actorId))[0]! };
            } catch (alone) {
              out[i + k] = { ok: false, error: alone };
            }
          }
        }
      }
      i = j;
    }
    return out;
  });
}
