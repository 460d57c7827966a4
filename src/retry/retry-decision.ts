/**
 * The retry-or-dead-letter decision, in one place for the runner (a failed attempt) and the
 * rescuer (a worker that stopped renewing its lease): a transient failure (timeout and
 * worker_lost count as transient) with retries left is retried after the backoff; anything
 * else is dead-lettered.
 */
import { computeBackoff, type BackoffPolicy } from './backoff.js';

/** When the next attempt is due (epoch ms), or `null` to dead-letter the job. */
export function nextRetryAt(req: {
  /** 'permanent' is never retried. */
  classification: 'transient' | 'permanent';
  retryCount: number;
  maxRetries: number;
  backoff: Partial<BackoffPolicy>;
  now: number;
  random: () => number;
}): number | null {
  if (req.classification === 'permanent' || req.retryCount >= req.maxRetries) return null;
  return req.now + computeBackoff(req.retryCount + 1, req.backoff, req.random);
}
