/**
 * Several worker processes on one PostgreSQL database.
 *
 *   DATABASE_URL=postgres://app@db:5432/app npx tsx examples/postgres-workers.ts [--workers 3] [--jobs 300]
 *
 * (DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test.) This process starts N
 * worker processes (this same file with `--worker`), waits until they are ready, submits the
 * jobs as a web tier would (`worker: false`), prints progress from the `job:status` events the
 * workers' commits send back, then stops the workers gracefully and exits 0. Ctrl-C (SIGINT) or
 * SIGTERM at any time stops everything cleanly: running jobs finish or are handed back.
 *
 * Run it from two terminals, or two machines, against the same database: the workers of both
 * share the queue, and every job runs once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { defineJobType, JobEngine } from 'jobwing';
import { postgresStorage } from 'jobwing/postgres';

const { values } = parseArgs({
  options: {
    worker: { type: 'boolean', default: false },
    workers: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '300' },
    schema: { type: 'string', default: 'jobwing_example' },
  },
});
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const storage = () => postgresStorage({ connectionString: databaseUrl, schema: values.schema, poolSize: 4 });

/** Handler runs in this process. */
let ranHere = 0;

/** A pretend image resize: a little I/O wait, progress, a result. */
const resizeImage = defineJobType({
  name: 'resize-image',
  input: z.object({ imageId: z.string(), width: z.number().int().positive() }),
  output: z.object({ url: z.string(), worker: z.number() }),
  async handler(input, ctx) {
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
    await ctx.progress(50, 'resized');
    ranHere++;
    return { url: `https://images.example/${input.imageId}-${input.width}.webp`, worker: process.pid };
  },
});

/** Set once SIGINT/SIGTERM arrived. */
let stopping = false;

/** Runs `stop` once on SIGINT/SIGTERM, then exits 0; a second signal exits at once. */
function onSignal(stop: () => Promise<void>): void {
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`${signal}: stopping…`);
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

if (values.worker) {
  // ── a worker process ───────────────────────────────────────────────────────
  const engine = new JobEngine({ jobTypes: [resizeImage], storage: storage(), concurrency: 8, workerId: `worker-${process.pid}` });
  engine.on('engine:error', (e) => console.error(`worker ${process.pid}: ${e.source}: ${String(e.error)}`));
  await engine.start();
  console.log(`worker ${process.pid} ready`);
  onSignal(async () => {
    await engine.stop({ graceMs: 5_000 });
    console.log(`worker ${process.pid} stopped after running ${ranHere} jobs`);
  });
} else {
  // ── the parent: starts workers, submits, watches ───────────────────────────
  const workerCount = Number(values.workers);
  const jobCount = Number(values.jobs);
  const self = fileURLToPath(import.meta.url);
  const children: { child: ChildProcess; exited: Promise<number | null> }[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < workerCount; i++) {
    // process.execArgv carries tsx's loader when this runs under tsx.
    const child = spawn(process.execPath, [...process.execArgv, self, '--worker', '--schema', values.schema], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    ready.push(new Promise((resolve) => lines.on('line', (line) => (line.endsWith('ready') ? resolve() : undefined))));
    lines.on('line', (line) => console.log(`  [${child.pid}] ${line}`));
    children.push({ child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) });
  }

  const web = new JobEngine({ jobTypes: [resizeImage], storage: storage(), worker: false });
  const stopAll = async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
    const codes = await Promise.all(children.map((c) => c.exited));
    await web.stop();
    return codes;
  };
  onSignal(async () => void (await stopAll()));

  await web.start();
  await Promise.all(ready);
  console.log(`${workerCount} workers ready on schema "${values.schema}"; submitting ${jobCount} jobs`);

  const run = randomUUID().slice(0, 8);
  const ids = new Set<string>();
  let completed = 0;
  let done!: () => void;
  const allDone = new Promise<void>((resolve) => (done = resolve));
  let lastPrint = 0;
  web.on('job:status', (e) => {
    if (e.to !== 'completed' || !ids.has(e.jobId)) return;
    completed++;
    if (completed === jobCount || Date.now() - lastPrint > 250) {
      lastPrint = Date.now();
      console.log(`completed ${completed}/${jobCount} (${Math.floor((100 * completed) / jobCount)}%)`);
    }
    if (completed === jobCount) done();
  });

  // Once a signal arrived, calls on the stopped engine reject: that is the signal's doing.
  const quietIfStopping = (err: unknown) => {
    if (stopping) return new Promise<never>(() => undefined); // the signal handler exits
    throw err;
  };
  const started = Date.now();
  for (let i = 0; i < jobCount && !stopping; i += 100) {
    const batch = Array.from({ length: Math.min(100, jobCount - i) }, (_, k) => ({
      type: 'resize-image' as const,
      input: { imageId: `${run}-${i + k}`, width: 640 },
    }));
    for (const job of await web.system.submitMany(batch).catch(quietIfStopping)) ids.add(job.id);
  }
  await allDone;
  const seconds = (Date.now() - started) / 1000;
  const byWorker = new Map<number, number>();
  let cursor: string | undefined;
  do {
    const page = await web.system.list({ type: 'resize-image', status: 'completed', limit: 500, cursor }).catch(quietIfStopping);
    for (const job of page.items) if (ids.has(job.id) && job.output) byWorker.set(job.output.worker, (byWorker.get(job.output.worker) ?? 0) + 1);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  console.log(`all ${jobCount} jobs completed in ${seconds.toFixed(1)} s; by worker process: ${[...byWorker].map(([pid, n]) => `${pid}=${n}`).join(', ')}`);
  if (stopping) await new Promise<never>(() => undefined);
  const codes = await stopAll();
  if (codes.some((c) => c !== 0)) {
    console.error(`a worker exited with ${codes.join(', ')}`);
    process.exit(1);
  }
  console.log('all workers stopped cleanly');
  process.exit(0);
}
