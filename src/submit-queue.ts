/**
 * The submit queue: independent `submit()` calls made close together are written in one
 * store call per actor (one transaction, one fsync per burst), while each caller's outcome
 * stays its own (review defect 14): when a store call throws, its jobs are retried one by
 * one, so a job that cannot be written fails alone and no caller is told "failed" for a job
 * that committed.
 */
import { BatchQueue, type Settled } from './batch-queue.js';
import type { Clock } from './clock.js';
import type { InsertOutcome, NewJob, StorageAdapter } from './storage/adapter.js';

/** One queued submit. */
export interface SubmitRequest {
  job: NewJob;
  actorId: string;
}

/** Creates the queue over `storage`; `add()` resolves with that submit's own outcome. */
export function createSubmitQueue(storage: StorageAdapter, clock: Clock): BatchQueue<SubmitRequest, InsertOutcome> {
  const insert = async (jobs: NewJob[], actorId: string) => storage.insertJobs({ jobs, actorId, now: clock.now(), atomic: false });

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
