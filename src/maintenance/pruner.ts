/**
 * Retention: deletes finished jobs (completed, canceled, dead_letter) older than a cutoff,
 * with their history, in batches, yielding to the event loop between batches.
 */
import type { StorageAdapter } from '../storage/adapter.js';

const BATCH = 500;

/**
 * Deletes every finished job that finished before `finishedBefore`; returns how many.
 * @param mayContinue asked before each batch; pruning stops when it resolves false (this
 *   engine lost leadership, or is stopping)
 */
export async function pruneFinishedJobs(storage: StorageAdapter, finishedBefore: number, mayContinue: () => Promise<boolean> = async () => true): Promise<number> {
  let total = 0;
  for (;;) {
    if (!(await mayContinue())) return total;
    const n = await storage.pruneJobs({ finishedBefore, limit: BATCH });
    total += n;
    if (n < BATCH) return total;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
