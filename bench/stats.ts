/** Small helpers shared by the benchmark modules: percentiles, timing, results, machine info. */
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { statfsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** One measured figure. Nothing here ever fails on a timing: targets are only reported. */
export interface BenchResult {
  /** e.g. 'enqueue-single' */
  name: string;
  /** What varies between rows of the same benchmark, e.g. 'sync=FULL c=16'. */
  setting: string;
  /** Jobs (or samples) measured. */
  jobs: number;
  /** Wall time of the measured section, ms (throughput benchmarks). */
  ms?: number;
  /** Jobs per second (throughput benchmarks). */
  perSec?: number;
  /** pg-drain: jobs per second from the first handler run (engine start-up excluded). */
  steadyPerSec?: number;
  /** Latency percentiles, ms (latency benchmarks). */
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
  /** Human-readable target, e.g. '>= 100000 jobs/s'. */
  target?: string;
  /** Whether the target was met (undefined when there is no target). */
  met?: boolean;
  /** Anything worth knowing about how this figure was taken. */
  note?: string;
  /** Set when the benchmark could not run; the message says why. */
  error?: string;
  /**
   * The measured section on the monotonic clock, µs (the clock of `.cpuprofile` timestamps):
   * `bench/cpuprofile-top.ts --window a:b` summarizes only these samples.
   */
  windowUs?: [number, number];
  /**
   * CPU time of the measuring process (sqlite) or of the worker processes together (pg-drain)
   * over wall time: ≈ 1 per busy core; well under 1 on SQLite FULL means waiting on fsync.
   */
  cpuPerWall?: number;
  /** 1-minute load average when the figure was taken (other work on the machine skews it). */
  load1?: number;
  /** With `--trace`: store calls of the measured section (calls, items per call, time). */
  trace?: string;
}

/** Monotonic time in µs, on the same clock as V8 CPU profiles. */
export function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** p50/p90/p99/max of latency samples (ms). */
export function latencySummary(samples: readonly number[]): Pick<BenchResult, 'p50' | 'p90' | 'p99' | 'max'> {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
}

/** Throughput figures of `jobs` done in `ms`. */
export function throughput(jobs: number, ms: number): Pick<BenchResult, 'jobs' | 'ms' | 'perSec'> {
  return { jobs, ms, perSec: ms > 0 ? (jobs * 1000) / ms : Number.POSITIVE_INFINITY };
}

/** Resolves on the next macrotask. */
export const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const FS_TYPES: Record<number, string> = {
  0xef53: 'ext4',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x2fc12fc1: 'zfs',
};

/** What the figures were measured on: they only mean something next to this. */
export function machineInfo(): Record<string, string | number> {
  const c = cpus();
  let fs = 'unknown';
  try {
    const t = Number(statfsSync(tmpdir()).type);
    fs = FS_TYPES[t] ?? `0x${t.toString(16)}`;
  } catch {
    // statfs is best effort
  }
  let git = 'unknown';
  try {
    const opts = { cwd: new URL('..', import.meta.url), encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], opts).split('\n').filter(Boolean).length;
    git = dirty > 0 ? `${head} + ${dirty} uncommitted file(s) in src/` : head;
  } catch {
    // not a git checkout
  }
  return {
    git,
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
    tmpdir: tmpdir(),
    tmpdirFs: fs,
  };
}

/** CPU time (user + system) of this process so far, ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The 1-minute load average, rounded. */
export function load1(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/** Formats a number for the table. */
export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || Number.isNaN(n)) return '';
  if (!Number.isFinite(n)) return '∞';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Prints results as an aligned text table. */
export function printTable(results: readonly BenchResult[]): void {
  const header = ['benchmark', 'setting', 'jobs', 'time ms', 'jobs/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'cpu/wall', 'load', 'target', 'note'];
  const rows = results.map((r) => [
    r.name,
    r.setting,
    fmt(r.jobs),
    fmt(r.ms, 0),
    fmt(r.perSec, 0),
    fmt(r.p50, 3),
    fmt(r.p90, 3),
    fmt(r.p99, 3),
    fmt(r.max, 3),
    fmt(r.cpuPerWall, 2),
    fmt(r.load1, 2),
    r.target === undefined ? '' : `${r.met ? 'met' : 'MISSED'} (${r.target})`,
    r.error !== undefined ? `ERROR: ${r.error}` : (r.note ?? ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  const traced = results.filter((r) => r.trace);
  if (traced.length > 0) {
    console.log('\nstore calls in the measured section (--trace):');
    for (const r of traced) console.log(`  ${r.name} ${r.setting}: ${r.trace}`);
  }
}
