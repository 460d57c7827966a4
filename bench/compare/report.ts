/** Turns the measurements of a run into medians, the markdown tables and the JSON. */
import type { Metrics, MeasureOutput, Workload } from './workloads.js';

export interface Measurement {
  system: string;
  workload: Workload;
  rep: number;
  output?: MeasureOutput;
  error?: string;
}

export interface Row {
  label: string;
  workload: Workload;
  metric: keyof Metrics;
  /** Which way is better: ratios are oriented so > 1 means jobwing is better. */
  better: 'higher' | 'lower';
}

export const ROWS: Row[] = [
  { label: 'submit, awaited one at a time (jobs/s)', workload: 'submit', metric: 'perSec', better: 'higher' },
  { label: 'submitMany / bulk, 1,000 per call (jobs/s)', workload: 'submit-many', metric: 'perSec', better: 'higher' },
  { label: 'drain, concurrency 1 (jobs/s)', workload: 'drain-c1', metric: 'perSec', better: 'higher' },
  { label: 'drain, concurrency 16 (jobs/s)', workload: 'drain-c16', metric: 'perSec', better: 'higher' },
  { label: 'submit→start p50, producer → worker process (ms)', workload: 'latency-2p', metric: 'p50Ms', better: 'lower' },
  { label: 'submit→start p99, producer → worker process (ms)', workload: 'latency-2p', metric: 'p99Ms', better: 'lower' },
  { label: 'submit→start p50, one engine/process (ms)', workload: 'latency-1p', metric: 'p50Ms', better: 'lower' },
  { label: 'submit→start p99, one engine/process (ms)', workload: 'latency-1p', metric: 'p99Ms', better: 'lower' },
  { label: 'CPU µs per job in the process, drain c16', workload: 'drain-c16', metric: 'cpuUsPerJob', better: 'lower' },
  { label: 'peak RSS during drain c16 (MB)', workload: 'drain-c16', metric: 'peakRssMB', better: 'lower' },
  { label: 'event-loop delay p99 during drain c16 (ms)', workload: 'drain-c16', metric: 'eldP99Ms', better: 'lower' },
  { label: 'drain c16 of 1,000,000 queued (jobs/s)', workload: 'depth-1m', metric: 'perSec', better: 'higher' },
  { label: 'peak RSS draining 1,000,000 (MB)', workload: 'depth-1m', metric: 'peakRssMB', better: 'lower' },
  { label: 'event-loop delay p99 draining 1,000,000 (ms)', workload: 'depth-1m', metric: 'eldP99Ms', better: 'lower' },
];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** medians[system][workload][metric] over the repetitions that produced the metric. */
export type Medians = Record<string, Partial<Record<Workload, Metrics & { reps: number }>>>;

export function medians(ms: Measurement[]): Medians {
  const out: Medians = {};
  const groups = new Map<string, Measurement[]>();
  for (const m of ms) {
    if (!m.output) continue;
    const k = `${m.system}\u0000${m.workload}`;
    groups.set(k, [...(groups.get(k) ?? []), m]);
  }
  for (const [k, group] of groups) {
    const [system, workload] = k.split('\u0000') as [string, Workload];
    const metrics: Metrics & { reps: number } = { reps: group.length };
    for (const key of ['perSec', 'p50Ms', 'p99Ms', 'cpuUsPerJob', 'peakRssMB', 'eldP99Ms'] as const) {
      const xs = group.map((g) => g.output!.metrics[key]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (xs.length > 0) metrics[key] = median(xs);
    }
    (out[system] ??= {})[workload] = metrics;
  }
  return out;
}

export function fmt(v: number | undefined): string {
  if (v === undefined) return '–';
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function value(med: Medians, system: string, row: Row): number | undefined {
  return med[system]?.[row.workload]?.[row.metric];
}

/** > 1 means jobwing is better than the peer on this row. */
export function ratio(med: Medians, jobwing: string, peer: string, row: Row): number | undefined {
  const a = value(med, jobwing, row);
  const b = value(med, peer, row);
  if (a === undefined || b === undefined || a === 0 || b === 0) return undefined;
  return row.better === 'higher' ? a / b : b / a;
}

export interface Column {
  name: string;
  label: string;
}

/** The figures table: one row per workload metric, one column per system. */
export function figuresTable(med: Medians, columns: Column[], rows: Row[]): string {
  const lines = [`| workload | ${columns.map((c) => c.label).join(' | ')} |`, `| --- | ${columns.map(() => '---:').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.label} | ${columns.map((c) => fmt(value(med, c.name, r))).join(' | ')} |`);
  return lines.join('\n');
}

/** Ratios: each jobwing system against each peer, oriented so > 1 means jobwing is better. */
export function ratioTable(med: Medians, jobwing: Column[], peers: Column[], rows: Row[]): string {
  const lines = [
    `| workload | ${peers.map((p) => `vs ${p.label}`).join(' | ')} |`,
    `| --- | ${peers.map(() => '---:').join(' | ')} |`,
  ];
  const short = (name: string) => (name === 'jobwing-full' ? 'F' : name === 'jobwing-normal' ? 'N' : name === 'jobwing-pg' ? 'PG' : name);
  for (const r of rows) {
    const cells = peers.map((p) => {
      const parts = jobwing.map((j) => {
        const x = ratio(med, j.name, p.name, r);
        return x === undefined ? null : `${short(j.name)} ${x >= 10 ? x.toFixed(0) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(1)}×`;
      });
      const shown = parts.filter((s) => s !== null);
      return shown.length ? shown.join(' · ') : '–';
    });
    lines.push(`| ${r.label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
