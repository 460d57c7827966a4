/**
 * Store-level SQLite figures (below the engine): `npx tsx bench/sqlite-store.ts [--deep N]`.
 *
 * - insert: 10,000 jobs in non-atomic batches of 100 (group-committed submits)
 * - claim+settle: 10,000 jobs, claimJobs(limit 16) then one settleJobs per batch
 * - settleAndClaim: the same 10,000 with one transaction per cycle (settle 16, claim 16)
 * - deep queue: with N queued jobs (default 200,000), claim+settle of 16, metrics, first list page
 * - kysely compile cost of one insert statement (why hot paths use hand-written SQL)
 *
 * Prints figures only; a timing never fails anything.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { NewJob, StorageAdapter } from '../src/storage/adapter.js';
import { sqliteQb } from '../src/storage/sqlite/sqlite-compiler.js';
import { sqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';

const { values } = parseArgs({ options: { deep: { type: 'string', default: '200000' } } });
const DEEP = Number(values.deep);
const T0 = 1_700_000_000_000;
const dir = mkdtempSync(join(tmpdir(), 'jobwing-bench-store-'));
let fileSeq = 0;

function job(i: number, type = 'noop'): NewJob {
  const input = { i };
  return {
    id: randomUUID(),
    type,
    orgId: 'acme',
    ownerId: 'alice',
    priority: (['critical', 'high', 'normal', 'low'] as const)[i % 4]!,
    input,
    inputJson: JSON.stringify(input),
    maxRetries: 3,
    timeoutMs: 60_000,
    runAt: T0,
    dependsOn: [],
    dedupHash: `h${i}`,
    dedupWindowMs: 300_000,
  };
}

async function open(synchronous: 'FULL' | 'NORMAL'): Promise<StorageAdapter> {
  const store = sqliteStorage({ path: join(dir, `${++fileSeq}.sqlite`), synchronous });
  await store.migrate();
  return store;
}

async function insertMany(store: StorageAdapter, n: number, batch: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i += batch) {
    await store.insertJobs({ jobs: Array.from({ length: Math.min(batch, n - i) }, (_, k) => job(i + k)), actorId: 'alice', now: T0, atomic: false });
  }
  return performance.now() - t;
}

async function claimSettle(store: StorageAdapter, n: number, batch: number): Promise<number> {
  const t = performance.now();
  let done = 0;
  let now = T0;
  while (done < n) {
    now++;
    const claimed = await store.claimJobs({ workerId: 'w', types: ['noop'], limit: batch, now, leaseMs: 30_000 });
    if (claimed.length === 0) break;
    await store.settleJobs({
      now,
      settles: claimed.map((c) => ({ jobId: c.job.id, attempt: c.attempt, actorId: 'engine:w', outcome: { kind: 'completed', output: null, outputJson: 'null' } })),
    });
    done += claimed.length;
  }
  return performance.now() - t;
}

async function settleAndClaim(store: StorageAdapter, n: number, batch: number): Promise<number> {
  if (!store.settleAndClaim) throw new Error('store has no settleAndClaim');
  const t = performance.now();
  let now = T0;
  let held = await store.claimJobs({ workerId: 'w', types: ['noop'], limit: batch, now, leaseMs: 30_000 });
  let done = 0;
  while (held.length > 0 && done < n) {
    now++;
    const r = await store.settleAndClaim({
      settles: held.map((c) => ({ jobId: c.job.id, attempt: c.attempt, actorId: 'engine:w', outcome: { kind: 'completed', output: null, outputJson: 'null' } })),
      claim: { workerId: 'w', types: ['noop'], limit: batch, now, leaseMs: 30_000 },
    });
    done += held.length;
    held = r.claimed;
  }
  return performance.now() - t;
}

const rows: [string, string][] = [];
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')} jobs/s (${ms.toFixed(0)} ms)`;

for (const sync of ['FULL', 'NORMAL'] as const) {
  const store = await open(sync);
  rows.push([`insert 10,000 (batches of 100), synchronous=${sync}`, rate(10_000, await insertMany(store, 10_000, 100))]);
  rows.push([`claim+settle 10,000 (batches of 16), synchronous=${sync}`, rate(10_000, await claimSettle(store, 10_000, 16))]);
  await store.close();
  const fused = await open(sync);
  await insertMany(fused, 10_000, 100);
  rows.push([`settleAndClaim 10,000 (batches of 16), synchronous=${sync}`, rate(10_000, await settleAndClaim(fused, 10_000, 16))]);
  await fused.close();
}

{
  const store = await open('NORMAL');
  const fill = await insertMany(store, DEEP, 5_000);
  rows.push([`fill ${DEEP.toLocaleString('en-US')} queued (batches of 5,000)`, rate(DEEP, fill)]);
  const iterations = 200;
  const t = performance.now();
  await claimSettle(store, iterations * 16, 16);
  rows.push([`claim+settle of 16 with ${DEEP.toLocaleString('en-US')} queued`, `${((performance.now() - t) / iterations).toFixed(3)} ms per batch`]);
  let t1 = performance.now();
  await store.collectMetrics({ orgId: null, since: T0 - 86_400_000, now: T0 + 1000 });
  rows.push([`collectMetrics over ${DEEP.toLocaleString('en-US')} jobs`, `${(performance.now() - t1).toFixed(1)} ms`]);
  t1 = performance.now();
  await store.listJobs({ orgId: 'acme', statuses: null, types: null, ownerId: null, createdAfter: null, createdBefore: null, limit: 50, cursor: null });
  rows.push(['listJobs first page (50, one org)', `${(performance.now() - t1).toFixed(2)} ms`]);
  await store.close();
}

{
  const n = 20_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    sqliteQb
      .insertInto('jobs')
      .values({
        id: 'x', type: 't', org_id: 'o', owner_id: 'u', status: 'queued', priority_rank: 2, input: '{}', output: null, progress: 0,
        progress_message: null, checkpoint: null, error: null, retry_count: 0, max_retries: 3, attempts: 0, next_retry_at: null,
        run_at: i, timeout_ms: 1, depends_on: '[]', dedup_hash: null, created_at: i, started_at: null, completed_at: null,
        canceled_at: null, canceled_by: null, updated_at: i, lease_owner: null, lease_expires_at: null,
      })
      .compile();
  }
  rows.push(['kysely compile of the jobs insert', `${(((performance.now() - t) / n) * 1000).toFixed(1)} µs per statement`]);
}

rmSync(dir, { recursive: true, force: true });
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`SQLite store, node ${process.version}`);
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
