/**
 * SQLite file-store benchmarks, through the public API only (what a user's code does):
 * enqueue (single, concurrent, batched), drain of no-op jobs, submit-to-start latency.
 * Every benchmark gets a fresh database file in the run's temp dir.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JobEngine, sqliteStorage } from '../src/index.js';
import { noopEntries, noopType } from './job-types.js';
import { cpuMs, latencySummary, monoUs, sleep, throughput, type BenchResult } from './stats.js';
import { formatStats, traceStore, type MethodStats } from './store-trace.js';

type Sync = 'FULL' | 'NORMAL';

/** Sizes; `--jobs N` sets every job count at once. */
export interface SqliteBenchOptions {
  dir: string;
  /** Job count override for every throughput benchmark. */
  jobs?: number;
  /** Latency samples after warm-up. (Default: 1000) */
  samples: number;
  /** Count store calls in each measured section (`--trace`). */
  trace: boolean;
  /** Whether a benchmark (by name) should run. */
  wanted(name: string): boolean;
  /** Called with each result as soon as it is known. */
  report(r: BenchResult): void;
}

const BATCH = 1_000;
const CHUNK = 1_000;

let fileSeq = 0;
function dbPath(dir: string, label: string): string {
  return join(dir, `${String(++fileSeq).padStart(2, '0')}-${label}.sqlite`);
}

/**
 * An engine on a file, with `engine:error`s collected instead of printed. With `trace`, the
 * store is wrapped in a call counter; `traced()` returns what it counted since the last call.
 */
function makeEngine(path: string, sync: Sync, options: { worker: boolean; concurrency?: number; onStart?: (n: number, id: string) => void; trace?: boolean }) {
  const errors: unknown[] = [];
  const tracer = options.trace ? traceStore(sqliteStorage({ path, synchronous: sync })) : null;
  const engine = new JobEngine({
    jobTypes: [noopType(options.onStart)],
    storage: tracer ? tracer.storage : sqliteStorage({ path, synchronous: sync }),
    worker: options.worker,
    concurrency: options.concurrency ?? 4,
  });
  engine.on('engine:error', (e) => errors.push(e.error));
  let mark: Record<string, MethodStats> = {};
  /** Store calls since the previous `traced()` (undefined without `trace`). */
  const traced = (): string | undefined => {
    if (!tracer) return undefined;
    const now = tracer.stats();
    const out = formatStats(now, mark);
    mark = now;
    return out;
  };
  return { engine, errors, traced };
}

function errorNote(errors: unknown[]): string | undefined {
  if (errors.length === 0) return undefined;
  const first = errors[0] as { message?: unknown };
  return `${errors.length} engine:error (first: ${String(first?.message ?? first)})`;
}

/** N `submit()` calls, each awaited before the next: one transaction (one fsync at FULL) each. */
async function enqueueSingle(o: SqliteBenchOptions, sync: Sync, n: number): Promise<BenchResult> {
  const { engine, errors, traced } = makeEngine(dbPath(o.dir, `enqueue-single-${sync}`), sync, { worker: false, trace: o.trace });
  await engine.start();
  try {
    const sys = engine.system;
    for (let i = 0; i < 100; i++) await sys.submit('bench-noop', { n: 1e9 + i, tag: 'warmup' });
    traced();
    const w0 = monoUs();
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await sys.submit('bench-noop', { n: i, tag: 'single' });
    const ms = performance.now() - t0;
    const cpuPerWall = (cpuMs() - c0) / ms;
    const windowUs: [number, number] = [w0, monoUs()];
    const trace = traced();
    return { name: 'enqueue-single', setting: `sync=${sync}`, ...throughput(n, ms), cpuPerWall, windowUs, trace, note: errorNote(errors) ?? 'awaited one at a time' };
  } finally {
    await engine.stop();
  }
}

/** N `submit()` calls fired together in chunks of 1,000: the group-commit queue batches them. */
async function enqueueConcurrent(o: SqliteBenchOptions, sync: Sync, n: number): Promise<BenchResult> {
  const { engine, errors, traced } = makeEngine(dbPath(o.dir, `enqueue-concurrent-${sync}`), sync, { worker: false, trace: o.trace });
  await engine.start();
  try {
    const sys = engine.system;
    await Promise.all(Array.from({ length: 100 }, (_, i) => sys.submit('bench-noop', { n: 1e9 + i, tag: 'warmup' })));
    traced();
    const w0 = monoUs();
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let from = 0; from < n; from += CHUNK) {
      const count = Math.min(CHUNK, n - from);
      await Promise.all(Array.from({ length: count }, (_, i) => sys.submit('bench-noop', { n: from + i, tag: 'concurrent' })));
    }
    const ms = performance.now() - t0;
    const cpuPerWall = (cpuMs() - c0) / ms;
    const windowUs: [number, number] = [w0, monoUs()];
    const trace = traced();
    return { name: 'enqueue-concurrent', setting: `sync=${sync}`, ...throughput(n, ms), cpuPerWall, windowUs, trace, note: errorNote(errors) ?? `Promise.all of ${CHUNK} per chunk` };
  } finally {
    await engine.stop();
  }
}

/** `submitMany` in batches of 1,000 (one transaction per batch). */
async function enqueueBatch(o: SqliteBenchOptions, sync: Sync, n: number): Promise<BenchResult> {
  const { engine, errors, traced } = makeEngine(dbPath(o.dir, `enqueue-batch-${sync}`), sync, { worker: false, trace: o.trace });
  await engine.start();
  try {
    const sys = engine.system;
    await sys.submitMany(noopEntries(1e9, BATCH, 'warmup'));
    const batches: ReturnType<typeof noopEntries>[] = [];
    for (let from = 0; from < n; from += BATCH) batches.push(noopEntries(from, Math.min(BATCH, n - from), 'batch'));
    traced();
    const w0 = monoUs();
    const c0 = cpuMs();
    const t0 = performance.now();
    for (const b of batches) await sys.submitMany(b);
    const ms = performance.now() - t0;
    const cpuPerWall = (cpuMs() - c0) / ms;
    const windowUs: [number, number] = [w0, monoUs()];
    const trace = traced();
    const r = throughput(n, ms);
    return {
      name: 'enqueue-batch',
      setting: `sync=${sync}`,
      ...r,
      cpuPerWall,
      windowUs,
      trace,
      target: sync === 'FULL' ? '>= 100,000 jobs/s' : undefined,
      met: sync === 'FULL' ? r.perSec! >= 100_000 : undefined,
      note: errorNote(errors) ?? `submitMany × ${BATCH}`,
    };
  } finally {
    await engine.stop();
  }
}

/**
 * Drain: N no-op jobs are written first (submitMany, by a `worker: false` engine), then a
 * worker engine on the same file is started; time runs from `start()` to the last completion.
 * With `listen`, completions are counted from `job:status` events (the event feed is part of
 * the measured work, as in an app with a dashboard); without, from handler runs, and the clock
 * stops when `stop()` has flushed every settle (counts checked with `metrics()` afterwards).
 */
async function drain(o: SqliteBenchOptions, sync: Sync, concurrency: number, n: number, listen: boolean): Promise<BenchResult> {
  const path = dbPath(o.dir, `drain-${sync}-c${concurrency}${listen ? '' : '-nolisten'}`);
  const filler = makeEngine(path, sync, { worker: false });
  await filler.engine.start();
  for (let from = 0; from < n; from += BATCH) await filler.engine.system.submitMany(noopEntries(from, Math.min(BATCH, n - from), 'drain'));
  await filler.engine.stop();

  let runs = 0;
  let completed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const { engine, errors, traced } = makeEngine(path, sync, {
    worker: true,
    trace: o.trace,
    concurrency,
    onStart: () => {
      if (++runs === n && !listen) resolveDone();
    },
  });
  if (listen) {
    engine.on('job:status', (e) => {
      if (e.to === 'completed' && ++completed === n) resolveDone();
    });
  }
  const timeoutMs = Math.max(120_000, n * 10);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  let stopped = false;
  try {
    traced();
    const w0 = monoUs();
    const c0 = cpuMs();
    const t0 = performance.now();
    await engine.start();
    const outcome = await Promise.race([done.then(() => 'done' as const), timedOut]);
    if (!listen && outcome === 'done') {
      await engine.stop(); // flushes the settle queue: every completion is committed after this
      stopped = true;
    }
    const ms = performance.now() - t0;
    const cpuPerWall = (cpuMs() - c0) / ms;
    const windowUs: [number, number] = [w0, monoUs()];
    const trace = traced();
    clearTimeout(timer);
    if (!stopped) {
      await engine.stop();
      stopped = true;
    }
    // Check the figures against the store (not timed).
    const reader = makeEngine(path, sync, { worker: false });
    await reader.engine.start();
    const m = await reader.engine.system.metrics();
    await reader.engine.stop();
    const ok = m.countsByStatus.completed === n;
    const setting = `sync=${sync} c=${concurrency}${listen ? '' : ' no listener'}`;
    if (outcome === 'timeout') {
      return { name: 'drain', setting, jobs: n, error: `timed out after ${timeoutMs} ms: ${runs} handler runs, ${completed} completion events, ${m.countsByStatus.completed} completed in store` };
    }
    const r = throughput(n, ms);
    const targeted = concurrency === 16 && sync === 'FULL' && listen;
    const notes = [
      listen ? 'until last job:status completed' : 'until last handler ran + stop() flushed settles',
      ok ? `metrics: ${m.countsByStatus.completed} completed` : `CHECK FAILED: metrics says ${m.countsByStatus.completed} completed`,
      runs !== n ? `${runs} handler runs` : null,
      errorNote(errors) ?? null,
    ].filter((s) => s !== null);
    return {
      name: 'drain',
      setting,
      ...r,
      cpuPerWall,
      windowUs,
      trace,
      target: targeted ? '>= 20,000 jobs/s' : undefined,
      met: targeted ? r.perSec! >= 20_000 : undefined,
      note: notes.join('; '),
    };
  } finally {
    clearTimeout(timer);
    if (!stopped) await engine.stop().catch(() => undefined);
  }
}

/**
 * Submit-to-start latency in one process: an idle worker engine; one job at a time; from just
 * before `submit()` to the handler's first line. Each job is left to complete before the next
 * submit, so every sample starts from an idle engine. `listen` adds a no-op `job:status`
 * listener (as an app with a dashboard would), which makes the event feed read the store on
 * every write.
 */
async function latency(o: SqliteBenchOptions, sync: Sync, listen: boolean): Promise<BenchResult[]> {
  let onStarted: ((t: number) => void) | null = null;
  const { engine, errors, traced } = makeEngine(dbPath(o.dir, `latency-${sync}${listen ? '-listen' : ''}`), sync, {
    worker: true,
    trace: o.trace,
    concurrency: 4,
    onStart: () => {
      const t = performance.now();
      onStarted?.(t);
    },
  });
  if (listen) engine.on('job:status', () => undefined);
  await engine.start();
  const warmup = 100;
  const starts: number[] = [];
  const acks: number[] = [];
  let w0 = 0;
  let w1 = 0;
  let trace: string | undefined;
  try {
    const sys = engine.system;
    for (let k = 0; k < warmup + o.samples; k++) {
      if (k === warmup) {
        traced();
        w0 = monoUs();
      }
      const started = new Promise<number>((resolve) => (onStarted = resolve));
      const t0 = performance.now();
      const job = await sys.submit('bench-noop', { n: k, tag: 'latency' });
      const tAck = performance.now();
      const tStart = await started;
      if (k >= warmup) {
        starts.push(tStart - t0);
        acks.push(tAck - t0);
      }
      // Let the attempt settle so the next sample starts from an idle engine.
      for (let i = 0; i < 5_000; i++) {
        if ((await sys.get(job.id)).status === 'completed') break;
        await sleep(1);
      }
    }
    w1 = monoUs();
    trace = traced();
  } finally {
    onStarted = null;
    await engine.stop();
  }
  const setting = `sync=${sync}${listen ? ' +status listener' : ''}`;
  const s = latencySummary(starts);
  const a = latencySummary(acks);
  const targeted = sync === 'FULL' && !listen;
  return [
    {
      name: 'latency submit→start',
      setting,
      jobs: starts.length,
      ...s,
      windowUs: [w0, w1],
      trace,
      target: targeted ? 'p50 < 1 ms' : undefined,
      met: targeted ? s.p50! < 1 : undefined,
      note: errorNote(errors) ?? `1 process, ${warmup} warm-up samples dropped`,
    },
    { name: 'latency submit→ack', setting, jobs: acks.length, ...a, note: 'submit() resolved (job committed)' },
  ];
}

/** Runs the selected SQLite benchmarks in order; a failing one is reported and the rest go on. */
export async function runSqliteBenchmarks(o: SqliteBenchOptions): Promise<void> {
  const steps: { name: string; run: () => Promise<BenchResult | BenchResult[]>; label: string }[] = [];
  const add = (name: string, label: string, run: () => Promise<BenchResult | BenchResult[]>) => {
    if (o.wanted(name)) steps.push({ name, label, run });
  };
  const nSingle = o.jobs ?? 2_000;
  const nMany = o.jobs ?? 10_000;
  const nBatch = o.jobs ?? 50_000;
  add('enqueue-single', 'enqueue-single sync=FULL', () => enqueueSingle(o, 'FULL', nSingle));
  add('enqueue-single', 'enqueue-single sync=NORMAL', () => enqueueSingle(o, 'NORMAL', nSingle));
  add('enqueue-concurrent', 'enqueue-concurrent sync=FULL', () => enqueueConcurrent(o, 'FULL', nMany));
  add('enqueue-batch', 'enqueue-batch sync=FULL', () => enqueueBatch(o, 'FULL', nBatch));
  for (const sync of ['FULL', 'NORMAL'] as const) {
    for (const c of [1, 16]) add('drain', `drain sync=${sync} c=${c}`, () => drain(o, sync, c, nMany, true));
  }
  add('drain', 'drain sync=FULL c=16 no listener', () => drain(o, 'FULL', 16, nMany, false));
  add('latency', 'latency sync=FULL', () => latency(o, 'FULL', false));
  add('latency', 'latency sync=NORMAL', () => latency(o, 'NORMAL', false));
  add('latency', 'latency sync=FULL +listener', () => latency(o, 'FULL', true));

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
}
