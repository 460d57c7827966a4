/**
 * Exponential backoff with jitter. Pure: randomness is injected so tests and users can
 * reproduce a schedule.
 */

/** How retry delays grow. */
export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. (Default: 1_000) */
  baseMs: number;
  /** Growth per retry. (Default: 2) */
  factor: number;
  /** Upper bound of the delay, before jitter. (Default: 3_600_000) */
  maxMs: number;
  /**
   * `'full'`: uniform in [0, d]; `'equal'`: d/2 + uniform in [0, d/2]; `'none'`: exactly d.
   * (Default: 'full')
   */
  jitter: 'full' | 'equal' | 'none';
}

/** The defaults of {@link BackoffPolicy}. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = {
  baseMs: 1_000,
  factor: 2,
  maxMs: 3_600_000,
  jitter: 'full',
};

/**
 * Delay before retry `retry` (1-based): `min(maxMs, baseMs * factor^(retry-1))`, then jitter.
 *
 * @param retry 1 for the first retry, 2 for the second…
 * @param policy the type's backoff policy (Default: {@link DEFAULT_BACKOFF})
 * @param random a function returning a number in [0, 1) (Default: Math.random)
 * @returns the delay in whole milliseconds
 * @example
 * ```ts
 * computeBackoff(3, { baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 'none' }); // 4000
 * ```
 */
export function computeBackoff(
  retry: number,
  policy: Partial<BackoffPolicy> = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const { baseMs, factor, maxMs, jitter } = { ...DEFAULT_BACKOFF, ...policy };
  const n = Math.max(1, Math.floor(retry));
  // factor^(n-1) can overflow to Infinity for large n; min() with maxMs keeps it finite.
  const d = Math.min(maxMs, baseMs * Math.pow(factor, n - 1));
  switch (jitter) {
    case 'none':
      return Math.round(d);
    case 'equal':
      return Math.round(d / 2 + random() * (d / 2));
    case 'full':
    default:
      return Math.round(random() * d);
  }
}
