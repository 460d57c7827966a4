/**
 * jobwing quickstart: `npm run demo`.
 *
 * Creates `jobwing-demo.sqlite` in the current directory, registers four job types, submits
 * jobs as two organizations, prints live progress and status changes, then the history of one
 * job and the metrics, and stops. Finishes on its own in a few seconds.
 *
 * Imports 'jobwing' by name, exactly as your app will (inside this repo it resolves to src/).
 */
import { rmSync } from 'node:fs';
import { z } from 'zod';
import {
  defineJobType,
  DuplicateJobError,
  JobEngine,
  PermanentError,
  sqliteStorage,
  TransientError,
  type JobStatus,
  type JobStatusEvent,
} from 'jobwing';

const DB = 'jobwing-demo.sqlite';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ── Job types ────────────────────────────────────────────────────────────────────────────

/** Reports progress as it renders pages. */
const renderReport = defineJobType({
  name: 'render-report',
  displayName: 'Render report',
  input: z.object({ reportId: z.string(), pages: z.number().int().min(1).max(20) }),
  output: z.object({ url: z.string(), pages: z.number() }),
  async handler(input, ctx) {
    for (let page = 1; page <= input.pages; page++) {
      await sleep(40);
      await ctx.progress(Math.round((page / input.pages) * 100), `page ${page}/${input.pages}`);
    }
    return { url: `https://reports.example/${input.reportId}.pdf`, pages: input.pages };
  },
});

/** Fails twice with a transient error (the endpoint is "down"), then succeeds. */
const deliverWebhook = defineJobType({
  name: 'deliver-webhook',
  input: z.object({ url: z.string().url() }),
  output: z.object({ status: z.number() }),
  maxRetries: 3,
  backoff: { baseMs: 150, factor: 2, jitter: 'none' },
  async handler(_input, ctx) {
    if (ctx.job.attempt < 3) throw new TransientError(`503 Service Unavailable (attempt ${ctx.job.attempt})`);
    return { status: 200 };
  },
});

/** Fails permanently: no retry, straight to dead_letter. */
const chargeCard = defineJobType({
  name: 'charge-card',
  input: z.object({ customerId: z.string(), cents: z.number().int().positive() }),
  backoff: { baseMs: 150 },
  async handler(input) {
    throw new PermanentError(`card of ${input.customerId} declined`);
  },
});

/** One step of a chain: extract → transform → load, linked with `dependsOn`. */
const etlStep = defineJobType({
  name: 'etl-step',
  input: z.object({ step: z.enum(['extract', 'transform', 'load']), dataset: z.string() }),
  output: z.object({ rows: z.number() }),
  async handler(input, ctx) {
    for (let i = 1; i <= 4; i++) {
      await sleep(30);
      await ctx.progress(i * 25, input.step);
    }
    return { rows: 1_000 };
  },
});

const jobTypes = [renderReport, deliverWebhook, chargeCard, etlStep];

// ── Engine ───────────────────────────────────────────────────────────────────────────────

for (const suffix of ['', '-wal', '-shm']) rmSync(DB + suffix, { force: true });

const engine = new JobEngine({
  jobTypes,
  storage: sqliteStorage({ path: DB }),
  concurrency: 4,
  pollIntervalMs: 100,
});

let interrupted = false;
let finish: () => void = () => undefined;
const allDone = new Promise<void>((resolve) => (finish = resolve));
const onSignal = (signal: NodeJS.Signals) => {
  console.log(`\n${signal}: stopping the engine…`);
  interrupted = true;
  process.exitCode = 130;
  finish();
  void engine.stop({ graceMs: 2_000 });
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

engine.on('engine:error', ({ error, source }) => console.error(`engine:error (${source}):`, error));

await engine.start();
console.log(`jobwing demo — store: ${DB}\n`);

// Two organizations, one user each. Each sees only its own org's jobs and events.
const alice = engine.as({ userId: 'alice', orgId: 'acme' });
const bob = engine.as({ userId: 'bob', orgId: 'globex' });
const admin = engine.as({ userId: 'root', orgId: 'ops', admin: true });

// ── Live output ──────────────────────────────────────────────────────────────────────────

const finalStatus = new Map<string, JobStatus>();
const expected = new Set<string>();
const FINAL: JobStatus[] = ['completed', 'dead_letter', 'canceled'];
// The last 8 characters: a UUIDv7 starts with its timestamp, so jobs submitted together share the first 8.
const shortId = (id: string) => id.slice(-8);
const label = (id: string, type: string, orgId: string) => `${orgId}/${type} ${shortId(id)}`;
const bar = (pct: number) => '█'.repeat(Math.round(pct / 5)).padEnd(20, '░');
const checkDone = () => {
  if (expected.size > 0 && [...expected].every((id) => finalStatus.has(id))) finish();
};

// The engine hears every org; a scoped client (`alice.on(…)`) would hear only its own.
engine.on('job:progress', (e) => {
  console.log(`  ${label(e.jobId, e.type, e.orgId).padEnd(34)} ${bar(e.progress)} ${String(e.progress).padStart(3)}%  ${e.message ?? ''}`);
});
engine.on('job:status', (e: JobStatusEvent) => {
  const why = e.error ? `  (${e.error.type}: ${e.error.message})` : '';
  console.log(`• ${label(e.jobId, e.type, e.orgId).padEnd(34)} ${e.from ?? 'new'} → ${e.to}${why}`);
  if (FINAL.includes(e.to)) finalStatus.set(e.jobId, e.to);
  else finalStatus.delete(e.jobId);
  checkDone();
});

// ── Submit ───────────────────────────────────────────────────────────────────────────────

// Status events of a job may arrive before its submit() resolves: they are delivered at once.
const track = <J extends { id: string }>(job: J): J => {
  expected.add(job.id);
  return job;
};

const report = track(await alice.submit('render-report', { reportId: 'q3-sales', pages: 10 }, { priority: 'high' }));
const webhook = track(await alice.submit('deliver-webhook', { url: 'https://hooks.example/acme' }));
track(await bob.submit('render-report', { reportId: 'inventory', pages: 5 }));
track(await bob.submit('charge-card', { customerId: 'cus_42', cents: 1999 }));

// A chain: each step waits until its parent is completed.
const extract = track(await bob.submit('etl-step', { step: 'extract', dataset: 'orders' }));
const transform = track(await bob.submit('etl-step', { step: 'transform', dataset: 'orders' }, { dependsOn: [extract.id] }));
track(await bob.submit('etl-step', { step: 'load', dataset: 'orders' }, { dependsOn: [transform.id] }));

// Dedup: the same input in the same org within the window is rejected.
try {
  await alice.submit('render-report', { reportId: 'q3-sales', pages: 10 });
} catch (err) {
  if (err instanceof DuplicateJobError) console.log(`  (duplicate submit rejected: existing job ${shortId(err.existingJobId)})`);
  else throw err;
}
checkDone();

// Safety net: never hang, even if something goes wrong.
const watchdog = setTimeout(() => {
  console.error('demo: jobs did not finish within 30 s');
  process.exitCode = 1;
  finish();
}, 30_000);
watchdog.unref();

await allDone;
clearTimeout(watchdog);

// ── Report ───────────────────────────────────────────────────────────────────────────────

if (!interrupted) {
  const done = await alice.get(report.id);
  console.log(`\nReport output: ${JSON.stringify(done.output)}`);

  // Bob cannot see Alice's job: another org's id behaves like an id that does not exist.
  await bob.get(report.id).then(
    () => console.log('bob can see alice’s job?!'),
    (err: Error) => console.log(`bob.get(alice’s job) → ${err.name}`),
  );

  console.log(`\nHistory of ${label(webhook.id, webhook.type, webhook.orgId)} (${webhook.id}):`);
  const t0 = webhook.createdAt.getTime();
  for (const h of await alice.history(webhook.id)) {
    const why = h.error ? `  ${h.error.type}: ${h.error.message}` : '';
    console.log(`  +${String(h.at.getTime() - t0).padStart(5)} ms  attempt ${h.attempt}  ${(h.from ?? 'new').padEnd(9)} → ${h.to.padEnd(11)} by ${h.actorId}${why}`);
  }

  const m = await admin.metrics();
  console.log('\nMetrics (all orgs):');
  const counts = Object.entries(m.countsByStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s}=${n}`);
  console.log(`  countsByStatus: ${counts.join(' ')}`);
  console.log(`  processingTime: count=${m.processingTime.count} avg=${m.processingTime.avgMs.toFixed(0)} ms p95=${m.processingTime.p95Ms.toFixed(0)} ms`);
  for (const [type, f] of Object.entries(m.failureRateByType)) {
    console.log(`  ${type.padEnd(16)} completed=${f.completed} failed=${f.failed} failure rate=${(f.rate * 100).toFixed(0)}%`);
  }
  const acme = await alice.metrics();
  console.log(`  acme only: ${Object.entries(acme.countsByStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s}=${n}`).join(' ')}`);
}

await engine.stop();
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
console.log(interrupted ? 'Stopped.' : '\nDone: engine stopped.');
