/**
 * Postgres benchmarks (`--store postgres`): drain throughput with 1 and 4 worker processes,
 * and submit-to-start latency across processes (submitter here, worker in a child; the store
 * wakes the worker with LISTEN/NOTIFY). Every benchmark gets a fresh schema, dropped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { JobEngine } from '../src/index.js';
import { noopEntries, noopType } from './job-types.js';
import { benchPgUrl, dropPgSchema, loadPostgresStorage, withPgClient, redactUrl, type ParentMessage, type PostgresStorageFactory, type WorkerMessage } from './pg-common.js';
import { latencySummary, sleep, throughput, type BenchResult } from './stats.js';

/** Options from the command line. */
export interface PostgresBenchOptions {
  jobs?: number;
  samples: number;
  /** Worker process counts of the drain benchmark. */
  workers: number[];
  /** Count store calls in the worker processes (`--trace`). */
  trace: boolean;
  wanted(name: string): boolean;
  report(r: BenchResult): void;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BATCH = 1_000;
/** Handlers per worker process in the drain benchmark. */
const DRAIN_CONCURRENCY = 16;

let schemaSeq = 0;
const newSchemaName = () => `jobwing_bench_${process.pid}_${Date.now().toString(36)}_${++schemaSeq}`;


/** A worker child process and the messages it sent. */
class Worker {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  #listeners: ((m: WorkerMessage) => void)[] = [];
  failure: string | null = null;

  constructor(url: string, schema: string, mode: 'drain' | 'latency', concurrency: number, trace: boolean) {
    // JOBWING_BENCH_WORKER_NODE_ARGS: extra node flags for the workers, e.g. to profile them
    // ("--cpu-prof --cpu-prof-dir=/tmp/prof"; --cpu-prof is not allowed in NODE_OPTIONS).
    const extra = (process.env.JOBWING_BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
    const args = [...extra, '--import', 'tsx', 'bench/pg-worker.ts', '--schema', schema, '--mode', mode, '--concurrency', String(concurrency), ...(trace ? ['--trace'] : [])];
    this.proc = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, JOBWING_BENCH_CHILD_URL: url },
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.proc.on('message', (m: WorkerMessage) => {
      if (m.type === 'failed') this.failure = m.error;
      for (const l of [...this.#listeners]) l(m);
    });
  }

  onMessage(l: (m: WorkerMessage) => void): () => void {
    this.#listeners.push(l);
    return () => (this.#listeners = this.#listeners.filter((x) => x !== l));
  }

  /** Resolves with the first message of `type`; rejects if the process fails or exits first. */
  next<K extends WorkerMessage['type']>(type: K, timeoutMs: number): Promise<Extract<WorkerMessage, { type: K }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`worker ${this.proc.pid}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const off = this.onMessage((m) => {
        if (m.type === type) done(null, m as Extract<WorkerMessage, { type: K }>);
        else if (m.type === 'failed') done(new Error(`worker ${this.proc.pid} failed: ${m.error}`));
      });
      void this.exited.then((code) => done(new Error(`worker ${this.proc.pid} exited (code ${code}) before "${type}"${this.failure ? `: ${this.failure}` : ''}`)));
      const done = (err: Error | null, m?: Extract<WorkerMessage, { type: K }>) => {
        clearTimeout(timer);
        off();
        if (err) reject(err);
        else resolve(m!);
      };
    });
  }

  send(m: ParentMessage): void {
    if (this.proc.connected) this.proc.send(m);
  }

  /** Asks the worker to stop; returns its final report (or null), and makes sure it exits. */
  async stop(): Promise<{ runs: number; errors: string[]; trace?: string; cpuMs: number } | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return null;
    const stopped = this.next('stopped', 20_000).catch(() => null);
    this.send({ type: 'stop' });
    const report = await stopped;
    const exited = await Promise.race([this.exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!exited) {
      this.proc.kill('SIGKILL'); // only this child, by its own handle
      await this.exited;
    }
    return report;
  }
}

/** A `worker: false` engine on the schema: submits, listens, reads metrics. */
async function parentEngine(postgresStorage: PostgresStorageFactory, url: string, schema: string) {
  const storage = postgresStorage({ connectionString: url, schema });
  const engine = new JobEngine({ jobTypes: [noopType()], storage, worker: false });
  const errors: string[] = [];
  engine.on('engine:error', (e) => {
    if (errors.length < 20) errors.push(`${e.source}: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
  });
  await engine.start();
  return { engine, errors, pushWake: storage.capabilities.pushWake };
}

/**
 * Drain with `processes` worker processes (16 handlers each): N jobs are written first; the
 * clock starts when every worker process is loaded and told to start its engine, and stops at
 * the last `completed` job:status event seen by the parent (or, if events lag, when a
 * `metrics()` poll every 250 ms sees all N completed). The note also gives the rate from the
 * first handler run, which leaves out engine start-up (migration check, LISTEN, first poll).
 */
async function pgDrain(postgresStorage: PostgresStorageFactory, url: string, processes: number, n: number, trace: boolean): Promise<BenchResult> {
  const schema = newSchemaName();
  const setting = `${processes} proc × c=${DRAIN_CONCURRENCY}`;
  const workers: Worker[] = [];
  let parent: Awaited<ReturnType<typeof parentEngine>> | null = null;
  try {
    parent = await parentEngine(postgresStorage, url, schema);
    const sys = parent.engine.system;
    for (let from = 0; from < n; from += BATCH) await sys.submitMany(noopEntries(from, Math.min(BATCH, n - from), 'pg-drain'));

    let completed = 0;
    let resolveDone!: (how: string) => void;
    const done = new Promise<string>((resolve) => (resolveDone = resolve));
    parent.engine.on('job:status', (e) => {
      if (e.to === 'completed' && ++completed === n) resolveDone('events');
    });

    for (let i = 0; i < processes; i++) workers.push(new Worker(url, schema, 'drain', DRAIN_CONCURRENCY, trace));
    await Promise.all(workers.map((w) => w.next('ready', 60_000)));

    const timeoutMs = Math.max(120_000, n * 20);
    let polling = true;
    const poll = (async () => {
      const deadline = performance.now() + timeoutMs;
      while (polling) {
        await sleep(250);
        if (!polling) return;
        if (performance.now() > deadline) return resolveDone('timeout');
        const failed = workers.find((w) => w.failure !== null || w.proc.exitCode !== null);
        if (failed) return resolveDone(`worker failed: ${failed.failure ?? `exit ${failed.proc.exitCode}`}`);
        const m = await sys.metrics().catch(() => null);
        if (m && m.countsByStatus.completed >= n) return resolveDone('metrics poll');
      }
    })();

    let firstRun: bigint | null = null;
    for (const w of workers) {
      w.onMessage((m) => {
        if (m.type === 'first' && (firstRun === null || BigInt(m.t) < firstRun)) firstRun = BigInt(m.t);
      });
    }
    const t0 = performance.now();
    for (const w of workers) w.send({ type: 'go' });
    const how = await done;
    const ms = performance.now() - t0;
    const tEnd = process.hrtime.bigint();
    const steadyMs = firstRun === null ? null : Number(tEnd - (firstRun as bigint)) / 1e6;
    polling = false;
    await poll;

    const reports = await Promise.all(workers.map((w) => w.stop()));
    const runs = reports.reduce((sum, r) => sum + (r?.runs ?? 0), 0);
    // Worker CPU from `go` to `stop`: a little longer than the measured window (stop included).
    const workerCpuMs = reports.reduce((sum, r) => sum + (r?.cpuMs ?? 0), 0);
    const workerErrors = reports.flatMap((r) => r?.errors ?? []);
    const m = await sys.metrics();
    if (how !== 'events' && how !== 'metrics poll') {
      return { name: 'pg-drain', setting, jobs: n, error: `${how}: ${completed} completion events, ${m.countsByStatus.completed} completed in store, ${runs} handler runs` };
    }
    const r = throughput(n, ms);
    const targeted = processes === 4;
    const steadyPerSec = steadyMs !== null && steadyMs > 0 ? (n * 1000) / steadyMs : undefined;
    const notes = [
      steadyPerSec !== undefined ? `${Math.round(steadyPerSec)} jobs/s from the first handler run (start-up ${Math.round(ms - steadyMs!)} ms excluded)` : null,
      how === 'events' ? 'until last job:status completed (parent)' : `ended by metrics() poll (events lagged: ${completed} of ${n} completion events by then)`,
      m.countsByStatus.completed === n ? `metrics: ${n} completed` : `CHECK FAILED: metrics says ${m.countsByStatus.completed} completed`,
      runs === n ? `${runs} handler runs` : `${runs} handler runs (≠ ${n}: double claims?)`,
      workerErrors.length > 0 ? `${workerErrors.length} worker engine:error (first: ${workerErrors[0]})` : null,
      parent.errors.length > 0 ? `${parent.errors.length} parent engine:error (first: ${parent.errors[0]})` : null,
    ].filter((s) => s !== null);
    const traces = reports.map((rep, i) => (rep?.trace ? `[worker ${i + 1}] ${rep.trace}` : null)).filter((x) => x !== null);
    return {
      name: 'pg-drain',
      setting,
      ...r,
      steadyPerSec,
      cpuPerWall: workerCpuMs / ms,
      target: targeted ? '>= 10,000 jobs/s' : undefined,
      met: targeted ? r.perSec! >= 10_000 : undefined,
      note: notes.join('; '),
      trace: traces.length > 0 ? traces.join(' ') : undefined,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop().catch(() => null)));
    await parent?.engine.stop().catch(() => undefined);
    await dropPgSchema(url, schema).catch(() => undefined);
  }
}

/**
 * Submit-to-start latency across processes: an idle worker process (concurrency 4); the
 * parent submits one job at a time and measures from just before `submit()` to the handler's
 * first line in the child (both read CLOCK_MONOTONIC via process.hrtime). Each job is left to
 * complete before the next submit.
 */
async function pgLatency(postgresStorage: PostgresStorageFactory, url: string, samples: number, trace: boolean): Promise<BenchResult[]> {
  const schema = newSchemaName();
  const setting = '1 worker proc, c=4';
  let worker: Worker | null = null;
  let parent: Awaited<ReturnType<typeof parentEngine>> | null = null;
  try {
    parent = await parentEngine(postgresStorage, url, schema);
    const sys = parent.engine.system;
    const completedIds = new Map<string, () => void>();
    parent.engine.on('job:status', (e) => {
      if (e.to === 'completed') completedIds.get(e.jobId)?.();
    });
    worker = new Worker(url, schema, 'latency', 4, trace);
    await worker.next('ready', 60_000);
    await sleep(200);

    const warmup = 50;
    const starts: number[] = [];
    const acks: number[] = [];
    let missed = 0;
    let completionByPoll = 0;
    for (let k = 0; k < warmup + samples; k++) {
      const startMsg = worker.next('start', 5_000);
      startMsg.catch(() => undefined);
      const t0 = process.hrtime.bigint();
      const job = await sys.submit('bench-noop', { n: k, tag: 'pg-latency' });
      const tAck = process.hrtime.bigint();
      const completedEvent = new Promise<void>((resolve) => completedIds.set(job.id, resolve));
      let m;
      try {
        m = await startMsg;
      } catch {
        missed++;
        if (worker.failure !== null || worker.proc.exitCode !== null) throw new Error(`worker failed: ${worker.failure ?? `exit ${worker.proc.exitCode}`}`);
        continue;
      }
      if (k >= warmup) {
        starts.push(Number(BigInt(m.t) - t0) / 1e6);
        acks.push(Number(tAck - t0) / 1e6);
      }
      // Wait for the completion (the event, else a poll) so the next sample starts idle. After
      // a few late events, wait less for them: the poll below settles it anyway.
      const viaEvent = await Promise.race([completedEvent.then(() => true), sleep(completionByPoll < 5 ? 2_000 : 100).then(() => false)]);
      completedIds.delete(job.id);
      if (!viaEvent) {
        completionByPoll++;
        for (let i = 0; i < 1_000; i++) {
          if ((await sys.get(job.id)).status === 'completed') break;
          await sleep(5);
        }
      }
    }
    const report = await worker.stop();
    worker = null;
    const s = latencySummary(starts);
    const notes = [
      `2 processes; pushWake=${parent.pushWake}; ${warmup} warm-up samples dropped`,
      missed > 0 ? `${missed} jobs not started within 5 s (not counted)` : null,
      completionByPoll > 0 ? `${completionByPoll} completions seen by polling, not events` : null,
      report && report.errors.length > 0 ? `${report.errors.length} worker engine:error (first: ${report.errors[0]})` : null,
    ].filter((x) => x !== null);
    return [
      {
        name: 'pg-latency submit→start',
        setting,
        jobs: starts.length,
        ...s,
        target: 'p50 < 5 ms',
        met: s.p50! < 5,
        note: notes.join('; '),
        trace: report?.trace ? `[worker] ${report.trace}` : undefined,
      },
      { name: 'pg-latency submit→ack', setting, jobs: acks.length, ...latencySummary(acks), note: 'submit() resolved (job committed)' },
    ];
  } finally {
    await worker?.stop().catch(() => null);
    await parent?.engine.stop().catch(() => undefined);
    await dropPgSchema(url, schema).catch(() => undefined);
  }
}

/**
 * Runs the selected Postgres benchmarks. Returns a message instead when the Postgres store
 * does not exist yet (nothing is reported as an error then).
 */
export async function runPostgresBenchmarks(o: PostgresBenchOptions): Promise<string | null> {
  const postgresStorage = await loadPostgresStorage();
  if (typeof postgresStorage === 'string') {
    process.stderr.write(`${postgresStorage}\n`);
    return postgresStorage;
  }
  const url = benchPgUrl();
  try {
    await withPgClient(url, (c) => c.query('SELECT 1'));
  } catch (error) {
    o.report({ name: 'postgres', setting: redactUrl(url), jobs: 0, error: `cannot connect: ${(error as Error).message}` });
    return null;
  }
  const n = o.jobs ?? 10_000;
  const steps: { label: string; run: () => Promise<BenchResult | BenchResult[]> }[] = [];
  if (o.wanted('pg-drain')) for (const p of o.workers) steps.push({ label: `pg-drain ${p} proc`, run: () => pgDrain(postgresStorage, url, p, n, o.trace) });
  if (o.wanted('pg-latency')) steps.push({ label: 'pg-latency', run: () => pgLatency(postgresStorage, url, o.samples, o.trace) });
  for (const step of steps) {
    process.stderr.write(`… ${step.label}\n`);
    try {
      const r = await step.run();
      for (const one of Array.isArray(r) ? r : [r]) o.report(one);
    } catch (error) {
      const [name, ...rest] = step.label.split(' ');
      o.report({ name: name!, setting: rest.join(' '), jobs: 0, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return null;
}
