/**
 * Per-job overhead of isolation (worker thread, pooled) vs the same trivial handler in-process.
 * Run: npx tsx bench/isolation.ts [jobs=400]. SQLite file store, concurrency 4, real clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineJobType, JobEngine, sqliteStorage } from '../src/index.js';

const JOBS = Number(process.argv[2] ?? 400);
const input = z.object({ n: z.number() });
const inProcess = defineJobType({ name: 'noop', input, dedupWindowMs: 0, handler: async (i) => ({ n: i.n }) });
const isolated = defineJobType({ name: 'noop', input, dedupWindowMs: 0, isolation: { kind: 'worker-thread', module: new URL('./fixtures/noop.handler.mjs', import.meta.url) } });

async function run(label: string, type: typeof inProcess) {
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-bench-iso-'));
  const engine = new JobEngine({ jobTypes: [type], storage: sqliteStorage({ path: join(dir, 'jobs.sqlite') }), concurrency: 4, pollIntervalMs: 50 });
  await engine.start();
  // Warm-up: threads started and the module loaded, as in a long-running worker.
  await Promise.all([1, 2, 3, 4].map(async (n) => engine.system.waitFor((await engine.system.submit('noop', { n: -n })).id, { timeoutMs: 30_000 })));
  const t0 = performance.now();
  const ids = await Promise.all(Array.from({ length: JOBS }, async (_, n) => (await engine.system.submit('noop', { n })).id));
  for (const id of ids) await engine.system.waitFor(id, { timeoutMs: 60_000 });
  const ms = performance.now() - t0;
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(`${label.padEnd(12)} ${JOBS} jobs in ${ms.toFixed(0)} ms = ${(ms / JOBS).toFixed(3)} ms/job`);
  return ms / JOBS;
}

const a = await run('in-process', inProcess);
const b = await run('isolated', isolated);
const a2 = await run('in-process', inProcess);
const b2 = await run('isolated', isolated);
console.log(`isolation overhead ≈ ${(((b + b2) - (a + a2)) / 2).toFixed(3)} ms/job (pooled threads, warm)`);
