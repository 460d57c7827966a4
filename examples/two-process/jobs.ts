/**
 * The job types shared by both processes. The web process needs them to validate and type
 * its submits; only the worker process runs their handlers.
 */
import { z } from 'zod';
import { defineJobType } from '../../src/index.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Pretends to resize an image in a few steps, reporting progress after each. */
export const resizeImage = defineJobType({
  name: 'resize-image',
  displayName: 'Resize image',
  input: z.object({ imageUrl: z.string().url(), width: z.number().int().positive() }),
  output: z.object({ resizedUrl: z.string(), width: z.number() }),
  timeoutMs: 30_000,
  backoff: { baseMs: 200 },
  async handler(input, ctx) {
    const steps = ['download', 'decode', 'resize', 'encode', 'upload'];
    for (const [i, step] of steps.entries()) {
      if (ctx.signal.aborted) throw new Error(`stopped: ${String(ctx.signal.reason)}`);
      await sleep(60);
      await ctx.progress(Math.round(((i + 1) / steps.length) * 100), step);
    }
    return { resizedUrl: input.imageUrl.replace(/(\.\w+)?$/, `-${input.width}w$1`), width: input.width };
  },
});

export const jobTypes = [resizeImage];

/** Both processes open the same SQLite file. (Default: ./jobwing-two-process.sqlite) */
export const dbPath = process.env.JOBWING_DB ?? 'jobwing-two-process.sqlite';

/** How often each engine looks for work and for the other process's events. */
export const pollIntervalMs = 100;
