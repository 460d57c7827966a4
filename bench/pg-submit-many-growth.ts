/**
 * Postgres submitMany as the table grows: 12 batches of 1,000 (dedup on). Each batch should
 * take the same time; the duplicate check's generic plan once made it grow linearly
 * (118 ms → 2.2 s). npx tsx bench/pg-submit-many-growth.ts
 */
import { z } from 'zod';
import { defineJobType, JobEngine } from '../src/index.js';
import { postgresStorage } from '../src/postgres.js';
const t = defineJobType({ name: 't', input: z.object({ n: z.number() }), async handler() {} });
const schema = 'pgsm_' + Math.random().toString(36).slice(2, 8);
const url = process.env.JOBWING_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const engine = new JobEngine({ jobTypes: [t], storage: postgresStorage({ connectionString: url, schema }), worker: false });
await engine.start();
for (let b = 0; b < 12; b++) {
  const t0 = performance.now();
  await engine.system.submitMany(Array.from({ length: 1000 }, (_, i) => ({ type: 't' as const, input: { n: b * 1000 + i } })));
  console.log(b, (performance.now() - t0).toFixed(0), 'ms');
}
await engine.stop();
const pg = (await import('pg')).default;
const c = new pg.Client({ connectionString: url });
await c.connect();
await c.query(`DROP SCHEMA "${schema}" CASCADE`);
await c.end();
