/**
 * Median of several bench runs: `npx tsx bench/median.ts run1.out run2.out run3.out`.
 * Each file is the stdout of `npm run bench` (its last JSON line is read). Prints, per
 * benchmark and setting, the median of each figure and the range across runs.
 */
import { readFileSync } from 'node:fs';
import { fmt, percentile, type BenchResult } from './stats.js';

interface Run {
  results: BenchResult[];
  machine: Record<string, unknown>;
}

function lastJsonLine(file: string): Run {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.startsWith('{"bench":"jobwing"')) return JSON.parse(lines[i]!) as Run;
  }
  throw new Error(`${file}: no bench JSON line`);
}

function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npx tsx bench/median.ts RUN.out [RUN.out…]');
    process.exit(2);
  }
  const runs = files.map(lastJsonLine);
  const keys: string[] = [];
  const byKey = new Map<string, BenchResult[]>();
  for (const run of runs) {
    for (const r of run.results) {
      const key = `${r.name}\t${r.setting}`;
      if (!byKey.has(key)) keys.push(key);
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
  }
  console.log(`median of ${runs.length} run(s); machines: ${[...new Set(runs.map((r) => `${r.machine.cpus} × ${r.machine.cpuModel}, src ${r.machine.git}`))].join(' | ')}`);
  const rows = [['benchmark', 'setting', 'jobs/s (range)', 'p50 ms (range)', 'p99 ms (range)', 'load (range)']];
  for (const key of keys) {
    const rs = byKey.get(key)!.filter((r) => r.error === undefined);
    const [name, setting] = key.split('\t') as [string, string];
    const col = (pick: (r: BenchResult) => number | undefined, digits: number) => {
      const xs = rs.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x));
      if (xs.length === 0) return '';
      return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
    };
    rows.push([name, setting, col((r) => r.perSec, 0), col((r) => r.p50, 3), col((r) => r.p99, 3), col((r) => r.load1, 1)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((c, j) => (j < 2 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

main();
