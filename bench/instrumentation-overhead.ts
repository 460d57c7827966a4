/**
 * What the instrumentation slot costs per job when jobwing/otel is NOT used: the submit
 * wrapper (`sendOne`) and one attempt's `startAttempt` + `end` (the engine counters), timed
 * in a tight loop against the bare call. Compare with the per-job cost of a submit or an
 * attempt in `npm run bench` (tens of µs).
 *
 * `npx tsx bench/instrumentation-overhead.ts [iterations]`
 */
import { systemClock } from '../src/clock.js';
import { Instrumentation } from '../src/instrumentation.js';
import type { ClaimedJob, InsertOutcome, NewJob } from '../src/storage/adapter.js';

const n = Number(process.argv[2] ?? 1_000_000);
const slot = new Instrumentation(systemClock);
const job = { id: 'j', type: 'noop', orgId: 'default' } as NewJob;
const outcome = { kind: 'inserted' } as InsertOutcome;
const insert = () => Promise.resolve(outcome);
const claimed = { job: { id: 'j', type: 'noop', orgId: 'default', startedAt: new Date() }, attempt: 1 } as unknown as ClaimedJob;
const completed = { outcome: { kind: 'completed' as const, output: null, outputJson: 'null' } };

async function time(label: string, fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 10_000; i++) await fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label.padEnd(44)} ${ns.toFixed(1)} ns/op`);
  return ns;
}

const bareSubmit = await time('submit: bare insert()', insert);
const wrappedSubmit = await time('submit: slot.sendOne(job, insert)', () => slot.sendOne(job, insert));
const bareRun = await time('attempt: bare fn()', () => (() => 1)());
const wrappedRun = await time('attempt: startAttempt + run + end', () => {
  const h = slot.startAttempt(claimed);
  h.run(() => 1);
  h.end(completed);
});
console.log(`overhead per submit ≈ ${(wrappedSubmit - bareSubmit).toFixed(0)} ns, per attempt ≈ ${(wrappedRun - bareRun).toFixed(0)} ns`);
