/**
 * Dialect-neutral pieces of `collectMetrics`, shared by every SQL store.
 */
import type { ProcessingTime } from '../../types.js';

// p95 is nearest-rank: the value at rank ceil(0.95 * n) in ascending order. ceil is written
// as integer arithmetic, (95n + 99) / 100, so it needs no SQL math functions.
/** SQL expression of the p95 rank over a window of `n` rows. */
export const P95_RANK = `(n * 95 + 99) / 100`;

/** A processing-time row: count, mean and p95 (optionally per type). */
export interface TimeRow {
  type?: string;
  n: number;
  avg_ms: number | null;
  p95_ms: number | null;
}

/** Maps a time row (or none) to the public shape; no rows means zeros. */
export function toProcessingTime(row: TimeRow | undefined): ProcessingTime {
  if (row === undefined || row.n === 0) return { count: 0, avgMs: 0, p95Ms: 0 };
  return { count: row.n, avgMs: row.avg_ms ?? 0, p95Ms: row.p95_ms ?? 0 };
}
