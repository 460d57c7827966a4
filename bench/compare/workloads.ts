/**
 * The workloads of issue 8, each run in its own child process against one system.
 * Job counts come from `--jobs`; every measurement starts from an empty store.
 */
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { counter, monoMs, percentile, startSampler } from './measure.js';
import type { Peer, PeerOptions, StoreLocation, SystemDef } from './peer.js';

export const WORKLOADS = ['submit', 'submit-many', 'drain-c1', 'drain-c16', 'latency-2p', 'latency-1p', 'depth-1m'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface Metrics {
  perSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  cpuUsPerJob?: number;
  peakRssMB?: number;
  eldP99Ms?: number;
}

export interface MeasureInput {
  system: SystemDef;
  workload: Workload;
  jobs: number;
  samples: number;
  loc: StoreLocation;
}

export interface MeasureOutput {
  metrics: Metrics;
  /** How many jobs or samples the figures cover. */
  count: number;
  note?: string;
}

const BATCH = 1_000;
/** Longest a timed submit loop runs; slower systems report the rate over what they did. */
const SUBMIT_BUDGET_MS = 60_000;
/** Longest the latency loop runs; slower systems report fewer samples. */
const LATENCY_BUDGET_MS = 20_000;

function peerOptions(i: MeasureInput, extra: Partial<PeerOptions>): PeerOptions {
  return { loc: i.loc, fresh: false, worker: false, concurrency: 1, ...extra };
}

async function fill(peer: Peer, n: number): Promise<void> {
  for (let from = 0; from < n; from += BATCH) await peer.submitMany(from, Math.min(BATCH, n - from));
}

async function submitOne(i: MeasureInput): Promise<MeasureOutput> {
  const peer = await i.system.create(peerOptions(i, { fresh: true }));
  try {
    for (let k = 0; k < 50; k++) await peer.submit(1e9 + k); // warm-up
    const t0 = performance.now();
    let k = 0;
    while (k < i.jobs && performance.now() - t0 < SUBMIT_BUDGET_MS) await peer.submit(k++);
    const ms = performance.now() - t0;
    return { metrics: { perSec: (k * 1000) / ms }, count: k, note: k < i.jobs ? `stopped after ${SUBMIT_BUDGET_MS / 1000} s` : undefined };
  } finally {
    await peer.close();
  }
}

async function submitMany(i: MeasureInput): Promise<MeasureOutput> {
  const peer = await i.system.create(peerOptions(i, { fresh: true }));
  try {
    await peer.submitMany(1e9, BATCH); // warm-up
    const t0 = performance.now();
    await fill(peer, i.jobs);
    const ms = performance.now() - t0;
    return { metrics: { perSec: (i.jobs * 1000) / ms }, count: i.jobs };
  } finally {
    await peer.close();
  }
}

/**
 * Drain: n jobs are written first by a producer (not timed); then a worker at concurrency c
 * starts; the clock runs from its start() to the n-th completion the system reports.
 */
async function drain(i: MeasureInput, n: number, concurrency: number): Promise<MeasureOutput> {
  const producer = await i.system.create(peerOptions(i, { fresh: true }));
  await fill(producer, n);
  await producer.close();
  const done = counter(n, Math.max(300_000, n * 2), `drain c${concurrency}`);
  const worker = await i.system.create(peerOptions(i, { worker: true, concurrency, onComplete: () => done.count() }));
  try {
    const sampler = startSampler();
    const t0 = performance.now();
    await worker.start();
    await done.reached;
    const ms = performance.now() - t0;
    const s = sampler.stop(n);
    return { metrics: { perSec: (n * 1000) / ms, ...s }, count: n };
  } finally {
    await worker.close();
  }
}

/**
 * One job at a time, each submitted only after the previous one completed and a random idle
 * gap (so every sample starts from an idle worker); submit→start = just before submit() to the
 * handler's first line, on CLOCK_MONOTONIC (comparable across processes).
 */
async function latencyLoop(
  samples: number,
  submit: (k: number) => Promise<void>,
  started: () => Promise<{ n: number; t: number }>,
  completed: () => Promise<void>,
): Promise<MeasureOutput> {
  const warmup = 5;
  const out: number[] = [];
  const t0 = performance.now();
  for (let k = 0; k < warmup + samples; k++) {
    if (k >= warmup && performance.now() - t0 > LATENCY_BUDGET_MS && out.length >= 10) break;
    const s = started();
    const c = completed();
    const before = monoMs();
    await submit(k);
    const { n, t } = await s;
    if (n !== k) throw new Error(`latency: expected job ${k} to start, got ${n}`);
    await c;
    if (k >= warmup) out.push(t - before);
    // Idle for a random 0–50 ms (timers run, the worker goes back to waiting) so the next
    // submit does not ride on the worker's own post-completion poll.
    await sleep(Math.random() * 50);
  }
  out.sort((a, b) => a - b);
  return {
    metrics: { p50Ms: percentile(out, 50), p99Ms: percentile(out, 99) },
    count: out.length,
    note: out.length < samples ? `${out.length} samples in the ${LATENCY_BUDGET_MS / 1000} s budget` : undefined,
  };
}

/** A resettable "next event" promise, rejected if nothing comes within 10 s. */
function nextEvent<T>(what: string) {
  let waiting: { resolve: (v: T) => void; timer: NodeJS.Timeout } | null = null;
  return {
    next(): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: nothing within 10 s`)), 10_000);
        waiting = { resolve, timer };
      });
    },
    emit(v: T) {
      const w = waiting;
      if (!w) return;
      waiting = null;
      clearTimeout(w.timer);
      w.resolve(v);
    },
  };
}

/** Producer and worker in one process (for jobwing: one engine does both). */
async function latencyOneProcess(i: MeasureInput): Promise<MeasureOutput> {
  const starts = nextEvent<{ n: number; t: number }>('handler start');
  const completions = nextEvent<void>('completion');
  const peer = await i.system.create(
    peerOptions(i, { fresh: true, worker: true, concurrency: 4, onStart: (n) => starts.emit({ n, t: monoMs() }), onComplete: () => completions.emit() }),
  );
  try {
    await peer.start();
    return await latencyLoop(i.samples, (k) => peer.submit(k), starts.next, completions.next);
  } finally {
    await peer.close();
  }
}

export type WorkerMessage = { type: 'ready' } | { type: 'start'; n: number; t: number } | { type: 'done' } | { type: 'error'; error: string };

/** A producer here (jobwing: a `worker: false` engine); the worker in a child process. */
async function latencyTwoProcesses(i: MeasureInput): Promise<MeasureOutput> {
  const producer = await i.system.create(peerOptions(i, { fresh: true }));
  const starts = nextEvent<{ n: number; t: number }>('handler start in the worker process');
  const completions = nextEvent<void>('completion in the worker process');
  // The worker runs the same entry point as this process (the compiled child), the same way.
  const child = fork(process.argv[1]!, ['--role', 'worker', '--system', i.system.name, '--loc', JSON.stringify(i.loc)], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'start') starts.emit({ n: m.n, t: m.t });
        else if (m.type === 'done') completions.emit();
        else if (m.type === 'error') reject(new Error(`worker process: ${m.error}`));
      });
      child.once('exit', (code) => reject(new Error(`worker process exited (${code}) before it was ready`)));
    });
    return await latencyLoop(i.samples, (k) => producer.submit(k), starts.next, completions.next);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.connected) child.send({ type: 'stop' });
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
    await producer.close();
  }
}

/** The worker side of latency-2p, in its own process: reports handler starts over IPC. */
export async function runLatencyWorker(system: SystemDef, loc: StoreLocation): Promise<void> {
  const send = (m: WorkerMessage) => process.send?.(m);
  const peer = await system.create({
    loc,
    fresh: false,
    worker: true,
    concurrency: 4,
    onStart: (n) => send({ type: 'start', n, t: monoMs() }),
    onComplete: () => send({ type: 'done' }),
  });
  await peer.start();
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stop') void peer.close().finally(() => process.disconnect?.());
  });
  send({ type: 'ready' });
}

export async function measure(i: MeasureInput): Promise<MeasureOutput> {
  switch (i.workload) {
    case 'submit':
      return submitOne(i);
    case 'submit-many':
      return submitMany(i);
    case 'drain-c1':
      return drain(i, i.jobs, 1);
    case 'drain-c16':
      return drain(i, i.jobs, 16);
    case 'depth-1m':
      return drain(i, 1_000_000, 16);
    case 'latency-1p':
      return latencyOneProcess(i);
    case 'latency-2p':
      return latencyTwoProcesses(i);
  }
}
