/**
 * Review defects 7 and 13 (SQLite, where a query runs in the host's thread):
 * 7  metrics() and list({ status }) scanned the whole jobs table (50k rows: 51 ms of blocked
 *    event loop; 1M rows: 1–2 s per dashboard refresh). Counts now come from the trigger-kept
 *    job_counts table, status-filtered pages from (org_id,) status, created_at, seq indexes.
 * 13 the dependsOn parent check planned on the org's list index and scanned the whole org.
 * Plans are checked with EXPLAIN QUERY PLAN (they do not depend on table size); the event-loop
 * cost at 1M rows is measured in bench/indexed-reads.ts. The counts are checked for exactness.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { PARENTS_SQL } from '../../src/storage/sqlite/queries-insert.js';
import { COUNTS_SQL, OLDEST_QUEUED_SQL, ORG_COUNTS_SQL, ORG_OLDEST_QUEUED_SQL } from '../../src/storage/sqlite/queries-metrics.js';
import { listJobsQuery } from '../../src/storage/sql/list-jobs-query.js';
import { sqliteQb } from '../../src/storage/sqlite/sqlite-compiler.js';
import { applySqliteMigrations, SQLITE_MIGRATIONS } from '../../src/storage/sqlite/schema.js';
import { sqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import type { ListJobsRequest } from '../../src/storage/adapter.js';
import { newJob, T0 } from '../../src/testing/conformance/index.js';

const dir = mkdtempSync(join(tmpdir(), 'jobwing-plans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function migratedDb(name: string) {
  const db = new Database(join(dir, name));
  applySqliteMigrations(db);
  return db;
}
const planOf = (db: Database.Database, sql: string, params: readonly unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');

const listReq = (over: Partial<ListJobsRequest>): ListJobsRequest => ({
  orgId: null, statuses: null, types: null, ownerId: null, createdAfter: null, createdBefore: null, limit: 50, cursor: null, ...over,
});

describe('SQLite reads that must not scan the jobs table', () => {
  const db = migratedDb('plans.sqlite');
  afterAll(() => db.close());

  it('metrics counts and queue depth read job_counts, and the oldest queued job is an index seek', () => {
    for (const [sql, params] of [[COUNTS_SQL, []], [ORG_COUNTS_SQL, ['acme']]] as const) {
      const plan = planOf(db, sql, params);
      expect(plan).toMatch(/job_counts/);
      expect(plan).not.toMatch(/\bjobs\b/);
    }
    expect(planOf(db, OLDEST_QUEUED_SQL, [])).toMatch(/USING (COVERING )?INDEX jobs_claim_idx/);
    expect(planOf(db, OLDEST_QUEUED_SQL, [])).not.toMatch(/SCAN jobs/);
    expect(planOf(db, ORG_OLDEST_QUEUED_SQL, ['acme'])).toMatch(/USING (COVERING )?INDEX jobs_org_queued_idx/);
  });

  it('a status-filtered page is read in order from a status index, with and without an org', () => {
    for (const [req, index] of [
      [listReq({ statuses: ['dead_letter'] }), 'jobs_status_list_idx'],
      [listReq({ statuses: ['running'], orgId: 'acme' }), 'jobs_org_status_list_idx'],
    ] as const) {
      const q = listJobsQuery(sqliteQb, req);
      const plan = planOf(db, q.sql, q.parameters);
      expect(plan).toMatch(new RegExp(`USING INDEX ${index}`));
      expect(plan).not.toMatch(/TEMP B-TREE|SCAN jobs\b(?! USING)/);
    }
  });

  it("the dependsOn parent check is a lookup by the unique id index, never the org's list", () => {
    const plan = planOf(db, PARENTS_SQL, ['["a","b"]', 'acme']);
    expect(plan).toMatch(/SEARCH j USING INDEX sqlite_autoindex_jobs_1 \(id=\?\)/);
    expect(plan).not.toMatch(/jobs_org_list_idx|SCAN j\b/);
  });
});

describe('job_counts stays exact', () => {
  it('through inserts, claims, settles, cancels, retries and prunes, and is filled by the migration from existing rows', async () => {
    const path = join(dir, 'counts.sqlite');
    // A database at schema 1 already holding jobs: migration 2 must count them.
    const v1 = new Database(path);
    applySqliteMigrations(v1, SQLITE_MIGRATIONS.filter((m) => m.version === 1));
    v1.close();
    const store = sqliteStorage({ path });
    await store.migrate();
    const jobs = Array.from({ length: 30 }, (_, i) => newJob({ type: 'c', orgId: i % 3 === 0 ? 'o1' : 'o2', priority: i % 2 ? 'high' : 'normal' }));
    await store.insertJobs({ jobs, actorId: 't', now: T0 - 1, atomic: true });
    const claimed = await store.claimJobs({ workerId: 'w', types: ['c'], limit: 12, now: T0, leaseMs: 60_000, promoteDue: 100 });
    await store.settleJobs({
      now: T0 + 1,
      settles: claimed.slice(0, 8).map((c, k) => ({
        jobId: c.job.id, attempt: c.attempt, actorId: 'w',
        outcome: k < 5 ? { kind: 'completed' as const, output: null, outputJson: 'null' } : { kind: 'failed' as const, error: { type: 'permanent' as const, message: 'x' }, retryAt: null },
      })),
    });
    await store.cancelJob({ jobId: jobs[29]!.id, orgId: null, actorId: 't', now: T0 + 2 });
    const dead = claimed[5]!.job.id;
    await store.retryJob({ jobId: dead, orgId: null, actorId: 't', now: T0 + 3 });
    expect(await store.pruneJobs({ finishedBefore: T0 + 10, limit: 3 })).toBe(3);
    const db = new Database(path, { readonly: true });
    try {
      const truth = db.prepare(`SELECT org_id, status, priority_rank, COUNT(*) AS n FROM jobs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`).all();
      const kept = db.prepare(`SELECT org_id, status, priority_rank, n FROM job_counts WHERE n <> 0 ORDER BY 1, 2, 3`).all();
      expect(kept).toEqual(truth);
      expect(truth.length).toBeGreaterThan(3);
    } finally {
      db.close();
      await store.close();
    }
  });
});

const PG_URL = process.env.JOBWING_TEST_PG_URL || undefined;
describe.skipIf(!PG_URL)(`Postgres status-filtered pages${PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)'}`, () => {
  it('are read in order from a status index (no sort), with and without an org', async () => {
    const { default: pg } = await import('pg');
    const { postgresStorage } = await import('../../src/postgres.js');
    const schema = `jobwing_plans_${Math.random().toString(36).slice(2, 10)}`;
    const store = postgresStorage({ connectionString: PG_URL!, schema, poolSize: 1 });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await store.migrate();
      // Small tables make the planner prefer a sequential scan; forbid it to see which index serves the query.
      await client.query('SET enable_seqscan = off');
      const plan = async (where: string) =>
        (await client.query(`EXPLAIN SELECT * FROM "${schema}".jobs WHERE ${where} ORDER BY created_at DESC, seq DESC LIMIT 51`)).rows
          .map((r: Record<string, string>) => r['QUERY PLAN'])
          .join('\n');
      const global = await plan(`status = 'dead_letter'`);
      expect(global).toMatch(/Index Scan Backward using jobs_status_list_idx/);
      expect(global).not.toMatch(/Sort/);
      const org = await plan(`org_id = 'acme' AND status = 'running'`);
      expect(org).toMatch(/Index Scan Backward using jobs_org_status_list_idx/);
      expect(org).not.toMatch(/Sort/);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      await store.close();
    }
  });
});

describe.skipIf(!PG_URL)(`Postgres duplicate check${PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)'}`, () => {
  it("probes jobs_dedup_idx per candidate in the prepared statement's generic plan, never the org's list index", async () => {
    const { default: pg } = await import('pg');
    const { postgresStorage } = await import('../../src/postgres.js');
    const { dedupProbeSql } = await import('../../src/storage/postgres/queries-insert.js');
    const { pgNames } = await import('../../src/storage/postgres/pg-names.js');
    const schema = `jobwing_dedup_${Math.random().toString(36).slice(2, 10)}`;
    const store = postgresStorage({ connectionString: PG_URL!, schema, poolSize: 1 });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await store.migrate();
      await client.query(`PREPARE probe(text[], text[], bigint[], int[]) AS ${dedupProbeSql(pgNames(schema))}`);
      await client.query('SET plan_cache_mode = force_generic_plan');
      const plan = (await client.query(`EXPLAIN EXECUTE probe(ARRAY['acme'], ARRAY['h'], ARRAY[0::bigint], ARRAY[0])`)).rows
        .map((r: Record<string, string>) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toMatch(/jobs_dedup_idx/);
      expect(plan).not.toMatch(/jobs_org_list_idx|Seq Scan on jobs/);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      await store.close();
    }
  });
});
