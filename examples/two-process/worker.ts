/**
 * The worker process: runs the jobs that any process submits to the shared SQLite file.
 *
 *   npx tsx examples/two-process/worker.ts
 *
 * Stops gracefully on SIGINT / SIGTERM: no new claims, running handlers may finish.
 */
import { JobEngine, sqliteStorage } from '../../src/index.js';
import { dbPath, jobTypes, pollIntervalMs } from './jobs.js';

const engine = new JobEngine({
  jobTypes,
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
