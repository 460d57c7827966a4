/**
 * R14 on Postgres: two processes each fire 500 concurrent identical submits. Exactly one job
 * is created; every other call gets DuplicateJobError naming that job.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStorage } from '../../src/postgres.js';
import { adminQuery, Child, PG_URL, SKIP_REASON, testSchema } from './fixtures/children.js';

const schema = testSchema('r14');

afterAll(async () => {
  if (PG_URL) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});

describe.skipIf(!PG_URL)(`R14 concurrent dedup across processes ${PG_URL ? '' : SKIP_REASON}`, () => {
  it('2 processes × 500 concurrent identical submits → exactly one job', async () => {
    const url = PG_URL!;
    const setup = postgresStorage({ connectionString: url, schema, poolSize: 1 });
    await setup.migrate(); // so that the submitters race on submits, not on migrations
    await setup.close();
    const children = [new Child('submitter.ts', [url, schema]), new Child('submitter.ts', [url, schema])];
    try {
      await Promise.all(children.map((c) => c.next('ready')));
      for (const c of children) c.send({ type: 'go' });
      const reports = await Promise.all(children.map((c) => c.next('submitted')));
      expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0]);

      const created = reports.flatMap((r) => r.created);
      const duplicates = reports.flatMap((r) => r.duplicates);
      expect(reports.flatMap((r) => r.errors)).toEqual([]);
      expect(created).toHaveLength(1);
      expect(duplicates).toHaveLength(999);
      expect(new Set(duplicates)).toEqual(new Set(created));
      const rows = await adminQuery<{ id: string }>(`SELECT id FROM "${schema}".jobs WHERE type = 'dedup-me'`);
      expect(rows.map((r) => r.id)).toEqual(created);
      const history = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".job_history`);
      expect(history[0]?.n).toBe('1'); // a refused submit writes nothing
    } finally {
      for (const c of children) c.kill();
    }
  }, 60_000);
});
