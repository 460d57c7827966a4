/**
 * Rescues attempts whose worker died: a running job whose lease expired is failed with
 * `worker_lost` (transient, so it is retried while retries are left, else dead-lettered).
 * The settle is fenced and conditioned on the lease still being expired, so a worker that
 * renews or finishes at the same moment wins or loses cleanly: one terminal transition (R8).
 */
import type { Clock } from '../clock.js';
import { DEFAULT_BACKOFF } from '../retry/backoff.js';
import { nextRetryAt } from '../retry/retry-decision.js';
import type { JobRegistry } from '../registry.js';
import type { SettleRequest, StorageAdapter } from '../storage/adapter.js';

/** Finds expired leases and fails their attempts with `worker_lost`. Returns how many were rescued. */
export async function rescueExpiredLeases(deps: {
  storage: StorageAdapter;
  registry: JobRegistry;
  clock: Clock;
  workerId: string;
  random: () => number;
  limit: number;
}): Promise<number> {
  const { storage, registry, clock } = deps;
  const expired = await storage.findExpiredLeases({ now: clock.now(), limit: deps.limit });
  if (expired.length === 0) return 0;
  const now = clock.now();
  const settles: SettleRequest[] = expired.map(({ job, attempt }) => {
    // Another engine may run types this one does not know: fall back to the default policy.
    const backoff = registry.has(job.type) ? registry.get(job.type).backoff : DEFAULT_BACKOFF;
    return {
      jobId: job.id,
      attempt,
      actorId: `engine:${deps.workerId}`,
      onlyIfLeaseExpired: true,
      outcome: {
        kind: 'failed',
        error: { type: 'worker_lost', message: `The worker running attempt ${attempt} stopped renewing its lease` },
        retryAt: nextRetryAt({ classification: 'transient', retryCount: job.retryCount, maxRetries: job.maxRetries, backoff, now, random: deps.random }),
      },
    };
  });
  const results = await storage.settleJobs({ settles, now });
  return results.filter((r) => r.kind === 'settled').length;
}
