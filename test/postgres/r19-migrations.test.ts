/**
 * R19 on Postgres: twenty processes start at once against an empty schema. Every process
 * migrates successfully, and the migrations ran once: one row per version in the migrations
 * table, all applied by the same backend in one transaction.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adminQuery, Child, PG_URL, SKIP_REASON, testSchema } from './fixtures/children.js';

const PROCESSES = 20;
const schema = testSchema('r19');

afterAll(async () => {
  if (PG_URL) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});

describe.skipIf(!PG_URL)(`R19 concurrent migrations ${PG_URL ? '' : SKIP_REASON}`, () => {
  it(`${PROCESSES} processes migrating an empty schema at once migrate it once`, async () => {
    const url = PG_URL!;
    const children = Array.from({ length: PROCESSES }, () => new Child('migrator.ts', [url, schema]));
    try {
      await Promise.all(children.map((c) => c.next('ready')));
      expect(await adminQuery(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema])).toEqual([]);
      for (const c of children) c.send({ type: 'go' });
      await Promise.all(children.map((c) => c.next('migrated')));
      expect(await Promise.all(children.map((c) => c.exited))).toEqual(children.map(() => 0));

      const applied = await adminQuery<{ version: number; applied_by: number; applied_at: Date }>(
        `SELECT version, applied_by, applied_at FROM "${schema}".jobwing_migrations ORDER BY version`,
      );
      expect(applied.map((m) => m.version)).toEqual([...new Set(applied.map((m) => m.version))]);
      expect(applied.length).toBeGreaterThan(0);
      expect(new Set(applied.map((m) => m.applied_by)).size).toBe(1);
      expect(new Set(applied.map((m) => m.applied_at.getTime())).size).toBe(1); // one transaction
      const tables = await adminQuery<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, [schema]);
      expect(tables.map((t) => t.tablename)).toEqual([
        'job_dependencies', 'job_history', 'job_progress_events', 'job_type_audit', 'job_type_settings',
        'jobs', 'jobwing_leadership', 'jobwing_migrations', 'jobwing_schedules', 'rate_limit_starts', 'schedule_audit',
      ]);
    } finally {
      for (const c of children) c.kill();
    }
  }, 60_000);
});
