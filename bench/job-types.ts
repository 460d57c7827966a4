/**
 * Job types used by the benchmarks. Inputs are small objects validated by zod, and every job
 * gets a distinct input, so the default dedup (SHA-256 of canonical JSON) runs and never
 * rejects: the submit path measured is the one users get with default settings.
 */
import { z } from 'zod';
import { defineJobType } from '../src/index.js';

/** Input of every benchmark job: a sequence number and a short tag. */
export const benchInput = z.object({ n: z.number().int().nonnegative(), tag: z.string().max(50) });

/**
 * A no-op job type. `onStart`, when given, is called on the handler's first line (the latency
 * benchmarks read `performance.now()` there; the drain benchmarks count runs).
 */
export function noopType(onStart?: (n: number, jobId: string) => void) {
  return defineJobType({
    name: 'bench-noop',
    input: benchInput,
    async handler(input, ctx) {
      onStart?.(input.n, ctx.job.id);
      return undefined;
    },
  });
}

/** Entries for `submitMany`: `count` distinct no-op jobs starting at sequence `from`. */
export function noopEntries(from: number, count: number, tag = 'bench') {
  const out: { type: 'bench-noop'; input: { n: number; tag: string } }[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { type: 'bench-noop', input: { n: from + i, tag } };
  return out;
}
