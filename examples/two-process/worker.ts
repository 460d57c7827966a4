/**
 * The worker process: runs the jobs that any process submits to the shared SQLite file.
 *
 *   npx tsx examples/two-process/worker.ts
 *
 * Stops gracefully on SIGINT / SIGTERM: no new claims, running handlers may finish.
 */
import { JobEngine, sqliteStorage } from 'jobwing';
import { dbPath, pollIntervalMs, resizeImage } from './jobs.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// The handler lives here only: the web process imports the declaration, not this code.
const resizeImageWorker = resizeImage.implement(async (input, ctx) => {
  const steps = ['download', 'decode', 'resize', 'encode', 'upload'];
  for (const [i, step] of steps.entries()) {
    if (ctx.signal.aborted) throw new Error(`stopped: ${String(ctx.signal.reason)}`);
    await sleep(60);
    await ctx.progress(Math.round(((i + 1) / steps.length) * 100), step);
  }
  return { resizedUrl: input.imageUrl.replace(/(\.\w+)?$/, `-${input.width}w$1`), width: input.width };
});

const engine = new JobEngine({
  jobTypes: [resizeImageWorker],
  storage: sqliteStorage({ path: dbPath }),
  worker: true,
  concurrency: 4,
  pollIntervalMs,
});

engine.on('engine:error', ({ error, source }) => console.error(`engine:error (${source}):`, error));
engine.on('job:status', (e) => {
  if (e.to === 'running' || e.to === 'completed' || e.to === 'retrying' || e.to === 'dead_letter') {
    const why = e.error ? ` (${e.error.type}: ${e.error.message})` : '';
    console.log(`${e.to.padEnd(9)} ${e.type} ${e.jobId} (org ${e.orgId}, attempt ${e.attempt})${why}`);
  }
});

let stopping = false;
const stop = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping (running jobs may finish)…`);
  await engine.stop({ graceMs: 5_000 });
  console.log('worker stopped');
};
process.on('SIGINT', (s) => void stop(s));
process.on('SIGTERM', (s) => void stop(s));

await engine.start();
console.log(`worker ready: ${dbPath}, concurrency 4, worker id ${engine.workerId}`);
