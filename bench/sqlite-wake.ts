/**
 * `npx tsx bench/sqlite-wake.ts [--samples N]`: submit→start latency on SQLite from a
 * `worker: false` engine in one process (the child) to a worker engine in another (this
 * process) on one file, for synchronous NORMAL and FULL, with the WAL watch on (`watchWal`,
 * the default) and off (poll only, `pollIntervalMs` 1,000). The child submits one job every
 * 20 ms carrying its submit time (`performance.timeOrigin + performance.now()`, comparable
 * across processes of one machine); the handler here takes the difference. Prints a table and
 * one JSON line. A timing never makes it fail.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { defineJobType, JobEngine, sqliteStorage } from '../src/index.js';
import { latencySummary, machineInfo, printTable, type BenchResult } from './stats.js';

const nowMs = () => performance.timeOrigin + performance.now();
const SUBMIT_EVERY_MS = 20;

const lat = defineJobType({ name: 'lat', input: z.object({ t: z.number() }), async handler() { return {}; } });

async function child(path: string, n: number, sync: 'FULL' | 'NORMAL', watchWal: boolean): Promise<void> {
  const engine = new JobEngine({ jobTypes: [lat], worker: false, storage: sqliteStorage({ path, synchronous: sync, watchWal }) });
  await engine.start();
  for (let i = 0; i < n; i++) {
    await engine.system.submit('lat', { t: nowMs() });
    await new Promise((r) => setTimeout(r, SUBMIT_EVERY_MS));
  }
  await engine.stop();
}

async function measure(n: number, warmup: number, sync: 'FULL' | 'NORMAL', watchWal: boolean): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-bench-wake-'));
  const path = join(dir, 'jobs.sqlite');
  const samples: number[] = [];
  const timed = defineJobType({
    name: 'lat',
    input: z.object({ t: z.number() }),
    async handler(input) {
      samples.push(nowMs() - input.t);
      return {};
    },
  });
  const worker = new JobEngine({ jobTypes: [timed], concurrency: 4, pollIntervalMs: 1_000, storage: sqliteStorage({ path, synchronous: sync, watchWal }) });
  await worker.start();
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', path, String(n + warmup), sync, String(watchWal)], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => proc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}`)))));
  while (samples.length < n + warmup) await new Promise((r) => setTimeout(r, 50));
  await worker.stop();
  rmSync(dir, { recursive: true, force: true });
  const measured = samples.slice(warmup).sort((a, b) => a - b);
  return {
    name: 'wake-latency',
    setting: `sync=${sync} ${watchWal ? 'watchWal' : 'poll 1 s'}`,
    jobs: measured.length,
    ...latencySummary(measured),
    note: `2 processes, one submit per ${SUBMIT_EVERY_MS} ms; ${warmup} warm-up samples dropped`,
  };
}

const argv = process.argv.slice(2);
if (argv[0] === 'child') {
  await child(argv[1]!, Number(argv[2]), argv[3] as 'FULL' | 'NORMAL', argv[4] === 'true');
} else {
  const { values } = parseArgs({ args: argv, options: { samples: { type: 'string' } } });
  const n = Number(values.samples ?? 300);
  const results: BenchResult[] = [];
  for (const sync of ['NORMAL', 'FULL'] as const) {
    results.push(await measure(n, 20, sync, true));
    results.push(await measure(Math.min(n, 100), 5, sync, false));
  }
  printTable(results);
  console.log(JSON.stringify({ bench: 'jobwing-sqlite-wake', machine: machineInfo(), results }));
}
