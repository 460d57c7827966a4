/**
 * Fairness benchmark: org A submits 50,000 jobs, then org B submits 50. A worker with 16
 * slots claims round after round (each claimed job finishes at once). Prints, for fairness
 * 'org' and 'none', the claim round in which B's jobs started (p50, p95, max) and the mean
 * time of a claim round, on a SQLite file store (`--store postgres` for Postgres).
 *
 *   npx tsx bench/fairness.ts [--jobs 50000] [--slots 16] [--store sqlite|postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { sqliteStorage, type StorageAdapter } from '../src/index.js';
import type { NewJob } from '../src/storage/adapter.js';
import { scratchPgSchema } from './pg-common.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const JOBS_A = Number(arg('jobs', '50000'));
const JOBS_B = 50;
const SLOTS = Number(arg('slots', '16'));
const STORE = arg('store', 'sqlite');

function job(orgId: string, n: number, now: number): NewJob {
  const input = { n };
  return {
    id: randomUUID(), type: 'work', orgId, ownerId: 'bench', priority: 'normal', input, inputJson: JSON.stringify(input),
    maxRetries: 0, timeoutMs: 60_000, runAt: now, dependsOn: [], dedupHash: null, dedupWindowMs: 0,
  };
}

async function openStore(): Promise<{ store: StorageAdapter; cleanup: () => Promise<void> }> {
  if (STORE === 'postgres') {
    const { postgresStorage } = await import('../src/postgres.js');
    const { url, schema, drop } = scratchPgSchema('jobwing_fair');
    return { store: postgresStorage({ connectionString: url, schema }), cleanup: drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-fair-'));
  return { store: sqliteStorage({ path: join(dir, 'jobs.sqlite'), synchronous: 'NORMAL' }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function run(fairness: 'org' | 'none') {
  const { store, cleanup } = await openStore();
  await store.migrate();
  const now = Date.now();
  for (let i = 0; i < JOBS_A; i += 1000) {
    await store.insertJobs({ jobs: Array.from({ length: Math.min(1000, JOBS_A - i) }, (_, k) => job('org-a', i + k, now)), actorId: 'bench', now, atomic: true });
  }
  await store.insertJobs({ jobs: Array.from({ length: JOBS_B }, (_, k) => job('org-b', k, now + 1)), actorId: 'bench', now: now + 1, atomic: true });
  const startedIn: number[] = [];
  let rounds = 0;
  let running: { jobId: string; attempt: number }[] = [];
  const t0 = performance.now();
  while (startedIn.length < JOBS_B) {
    rounds++;
    // Each round: the previous round's jobs finish, the freed slots claim again (one transaction).
    const settles = running.map((r) => ({ ...r, outcome: { kind: 'completed' as const, output: null, outputJson: 'null' }, actorId: 'bench' }));
    const claim = { workerId: 'bench', types: ['work'], limit: SLOTS, now: now + 2, leaseMs: 60_000, fairness };
    const { claimed } = store.settleAndClaim
      ? await store.settleAndClaim({ settles, claim })
      : { claimed: (await store.settleJobs({ settles, now: now + 2 }), await store.claimJobs(claim)) };
    running = claimed.map((c) => ({ jobId: c.job.id, attempt: c.attempt }));
    for (const c of claimed) if (c.job.orgId === 'org-b') startedIn.push(rounds);
    if (claimed.length === 0) break;
  }
  const msPerRound = (performance.now() - t0) / rounds;
  await store.close();
  await cleanup();
  return { fairness, p50: pct(startedIn, 50), p95: pct(startedIn, 95), max: Math.max(...startedIn), msPerRound };
}

const results = [await run('org'), await run('none')];
console.log(`fairness bench: ${STORE}, org A ${JOBS_A} queued then org B ${JOBS_B}, ${SLOTS} slots; claim round in which B's jobs started`);
for (const r of results) {
  console.log(`  fairness '${r.fairness}': p50 ${r.p50}, p95 ${r.p95}, max ${r.max} rounds; ${r.msPerRound.toFixed(2)} ms per claim round`);
}
console.log(JSON.stringify({ bench: 'fairness', store: STORE, jobsA: JOBS_A, jobsB: JOBS_B, slots: SLOTS, results }));
