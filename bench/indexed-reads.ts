/**
 * metrics() and a status-filtered list() on a large SQLite store (review defect 7): how long
 * each call holds the event loop (SQLite runs in the caller's thread).
 *   npx tsx bench/indexed-reads.ts [rows=1000000]
 * Fills the store through submitMany, then marks most jobs completed in one SQL update (the
 * triggers keep job_counts exact), spread over 30 days, so the table looks like a month of
 * a busy store's history (about 1,400 jobs finished in the last hour at 1M rows).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { defineJobType, JobEngine, SUBMIT_MANY_MAX_ENTRIES, sqliteStorage } from '../src/index.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const type = defineJobType({ name: 'r', input: z.object({ n: z.number() }), dedupWindowMs: 0, async handler() {} });
const dir = mkdtempSync(join(tmpdir(), 'jobwing-reads-'));
const path = join(dir, 'jobs.db');
const engine = new JobEngine({ jobTypes: [type], storage: sqliteStorage({ path, synchronous: 'NORMAL' }), worker: false });
await engine.start();
const t0 = performance.now();
for (let done = 0; done < rows; done += SUBMIT_MANY_MAX_ENTRIES) {
  const n = Math.min(SUBMIT_MANY_MAX_ENTRIES, rows - done);
  const org = `org-${(done / SUBMIT_MANY_MAX_ENTRIES) % 20}`;
  await engine.system.submitMany(Array.from({ length: n }, (_, i) => ({ type: 'r' as const, input: { n: done + i }, options: { orgId: org } })));
}
const db = new Database(path);
// Spread the history over the default 30-day retention, newest last (as a store that ran a month).
db.exec(`UPDATE jobs SET created_at = created_at - (${rows} - seq) * (2592000000 / ${rows})`);
db.exec(`UPDATE jobs SET status = 'completed', started_at = created_at, completed_at = created_at + 5 WHERE seq % 50 <> 0`);
db.exec(`UPDATE jobs SET status = 'dead_letter', completed_at = created_at + 5 WHERE seq % 1000 = 0`);
db.close();
console.log(`filled ${rows.toLocaleString('en-US')} jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

async function time(label: string, fn: () => Promise<unknown>) {
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  console.log(`${label.padEnd(46)} median ${samples[3]!.toFixed(1)} ms, max ${samples[6]!.toFixed(1)} ms`);
}
const since = new Date(Date.now() - 3_600_000);
await time('metrics() (all orgs, default: last 24 h)', () => engine.system.metrics());
await time('metrics() (all orgs, last hour)', () => engine.system.metrics({ since }));
await time("metrics({ orgId: 'org-3' }) (last hour)", () => engine.system.metrics({ orgId: 'org-3', since }));
await time("list({ status: 'dead_letter', limit: 50 })", () => engine.system.list({ status: 'dead_letter', limit: 50 }));
await time("list({ status: 'queued', orgId: 'org-3' })", () => engine.system.list({ status: 'queued', orgId: 'org-3', limit: 50 }));
await time("list({ status: 'completed' }) page 1", () => engine.system.list({ status: 'completed', limit: 50 }));
await engine.stop();
rmSync(dir, { recursive: true, force: true });
