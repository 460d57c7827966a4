/**
 * The job types shared by both processes, declared without their handlers: the web process
 * validates and types its submits with them and never imports what the handlers need; the
 * worker process implements them (see worker.ts).
 */
import { z } from 'zod';
import { defineJobType } from 'jobwing';

/** Pretends to resize an image in a few steps, reporting progress after each. */
export const resizeImage = defineJobType({
  name: 'resize-image',
  displayName: 'Resize image',
  input: z.object({ imageUrl: z.string().url(), width: z.number().int().positive() }),
  output: z.object({ resizedUrl: z.string(), width: z.number() }),
  timeoutMs: 30_000,
  backoff: { baseMs: 200 },
});

export const jobTypes = [resizeImage];

/** Both processes open the same SQLite file. (Default: ./jobwing-two-process.sqlite) */
export const dbPath = process.env.JOBWING_DB ?? 'jobwing-two-process.sqlite';

/** How often each engine looks for work and for the other process's events. */
export const pollIntervalMs = 100;
