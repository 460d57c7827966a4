/**
 * The web-like process: submits jobs and prints the progress and status events of those jobs
 * while a separate worker process runs them. It never runs a handler (`worker: false`).
 *
 *   npx tsx examples/two-process/web.ts [--jobs 5]
 *
 * Exits 0 once every job it submitted is completed (1 if one failed or it waited too long).
 * Stops gracefully on SIGINT / SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { JobEngine, sqliteStorage, type JobStatus } from 'jobwing';
import { dbPath, jobTypes, pollIntervalMs } from './jobs.js';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '5' }, 'timeout-ms': { type: 'string', default: '30000' } } });
const count = Number(values.jobs);
const timeoutMs = Number(values['timeout-ms']);
if (!Number.isInteger(count) || count < 1 || count > 500) throw new Error('--jobs must be an integer from 1 to 500');

const engine = new JobEngine({
  jobTypes,
  storage: sqliteStorage({ path: dbPath }),
  worker: false, // submits and reads; the worker process runs the handlers
  pollIntervalMs, // events from the worker arrive within this interval
});
engine.on('engine:error', ({ error, source }) => console.error(`engine:error (${source}):`, error));

let finish: (outcome: 'done' | 'interrupted' | 'timeout') => void = () => undefined;
const outcome = new Promise<'done' | 'interrupted' | 'timeout'>((resolve) => (finish = resolve));
process.once('SIGINT', () => finish('interrupted'));
process.once('SIGTERM', () => finish('interrupted'));

await engine.start();

// A web request would act as its signed-in user; every call is scoped to the user's org.
const user = engine.as({ userId: 'web-user', orgId: 'acme' });

const expected = new Set<string>();
const finalStatus = new Map<string, JobStatus>();
const checkDone = () => {
  if (expected.size > 0 && [...expected].every((id) => finalStatus.has(id))) finish('done');
};
user.on('job:progress', (e) => console.log(`progress  ${e.jobId} ${String(e.progress).padStart(3)}% ${e.message ?? ''}`));
user.on('job:status', (e) => {
  const why = e.error ? ` (${e.error.type}: ${e.error.message})` : '';
  console.log(`status    ${e.jobId} ${e.from ?? 'new'} → ${e.to}${why}`);
  if (e.to === 'completed' || e.to === 'dead_letter' || e.to === 'canceled') finalStatus.set(e.jobId, e.to);
  checkDone();
});

const batch = randomUUID().slice(0, 8); // distinct inputs per run, so dedup never rejects a rerun
const jobs = await user.submitMany(
  Array.from({ length: count }, (_, i) => ({
    type: 'resize-image' as const,
    input: { imageUrl: `https://img.example/${batch}/photo-${i + 1}.jpg`, width: 320 },
  })),
);
for (const job of jobs) expected.add(job.id);
console.log(`submitted ${jobs.length} jobs to ${dbPath}; waiting for the worker…`);
checkDone();

const watchdog = setTimeout(() => finish('timeout'), timeoutMs);
const result = await outcome;
clearTimeout(watchdog);

if (result === 'done') {
  const completed = [...finalStatus.entries()].filter(([id, s]) => expected.has(id) && s === 'completed').length;
  const sample = await user.get(jobs[0]!.id);
  console.log(`output of ${sample.id}: ${JSON.stringify(sample.output)}`);
  console.log(`all done: ${completed}/${count} jobs completed`);
  if (completed !== count) process.exitCode = 1;
} else if (result === 'timeout') {
  console.error(`timed out after ${timeoutMs} ms: ${finalStatus.size}/${count} jobs finished (is the worker running?)`);
  process.exitCode = 1;
} else {
  console.log('interrupted: stopping');
}

await engine.stop();
console.log('web stopped');
