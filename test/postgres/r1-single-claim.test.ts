/**
 * R1 on Postgres: four worker processes drain 10,000 jobs. Every job is completed exactly
 * once (one claim, one run, one `running → completed`), and no two runs of one job overlap.
 * Prints the drain throughput (never asserted).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { JobEngine } from '../../src/index.js';
import { postgresStorage } from '../../src/postgres.js';
import { adminQuery, Child, PG_URL, SKIP_REASON, testSchema } from './fixtures/children.js';
import { ALL_JOB_TYPES, type Run } from './fixtures/jobs.js';

const JOBS = 10_000;
const WORKERS = 4;
const schema = testSchema('r1');

afterAll(async () => {
  if (PG_URL) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});

describe.skipIf(!PG_URL)(`R1 single claim across ${WORKERS} worker processes ${PG_URL ? '' : SKIP_REASON}`, () => {
  it(`drains ${JOBS} jobs: each completed once, no overlapping runs`, async () => {
    const url = PG_URL!;
    const parent = new JobEngine({ jobTypes: ALL_JOB_TYPES, worker: false, storage: postgresStorage({ connectionString: url, schema, poolSize: 4 }) });
    await parent.start();
    const children: Child[] = [];
    try {
      for (let i = 0; i < JOBS; i += 500) {
        await parent.system.submitMany(Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => ({ type: 'drain' as const, input: { n: i + k } })));
      }
      const completed = new Set<string>();
      let resolveAll!: () => void;
      const allCompleted = new Promise<void>((resolve) => (resolveAll = resolve));
      parent.on('job:status', (e) => {
        if (e.to !== 'completed') return;
        completed.add(e.jobId);
        if (completed.size === JOBS) resolveAll();
      });

      for (let i = 0; i < WORKERS; i++) children.push(new Child('worker.ts', [url, schema, '64']));
      await Promise.all(children.map((c) => c.next('ready')));
      const t0 = performance.now();
      for (const c of children) c.send({ type: 'go' });
      await allCompleted;
      const seconds = (performance.now() - t0) / 1000;

      for (const c of children) c.send({ type: 'stop' });
      const reports = await Promise.all(children.map((c) => c.next('runs')));
      expect(await Promise.all(children.map((c) => c.exited))).toEqual(children.map(() => 0));
      console.log(`[R1] ${WORKERS} processes drained ${JOBS} jobs in ${seconds.toFixed(2)} s (${Math.round(JOBS / seconds)} jobs/s, incl. process start-up)`);

      const runs: Run[] = reports.flatMap((r) => r.runs);
      expect(runs).toHaveLength(JOBS);
      const byJob = new Map<string, Run[]>();
      for (const r of runs) byJob.set(r[0], [...(byJob.get(r[0]) ?? []), r]);
      expect(byJob.size).toBe(JOBS);
      for (const jobRuns of byJob.values()) {
        jobRuns.sort((a, b) => a[2] - b[2]);
        for (let i = 1; i < jobRuns.length; i++) expect(jobRuns[i]![2]).toBeGreaterThanOrEqual(jobRuns[i - 1]![3]);
      }
      expect(reports.every((r) => r.runs.length > 0)).toBe(true); // every process took part

      const [counts] = await adminQuery<{ completed: string; other: string; max_attempts: number; claims: string; completions: string }>(
        `SELECT (SELECT count(*) FROM "${schema}".jobs WHERE status = 'completed') AS completed,
                (SELECT count(*) FROM "${schema}".jobs WHERE status <> 'completed') AS other,
                (SELECT max(attempts) FROM "${schema}".jobs) AS max_attempts,
                (SELECT count(*) FROM "${schema}".job_history WHERE to_status = 'running') AS claims,
                (SELECT count(*) FROM "${schema}".job_history WHERE from_status = 'running' AND to_status = 'completed') AS completions`,
      );
      expect(counts).toEqual({ completed: String(JOBS), other: '0', max_attempts: 1, claims: String(JOBS), completions: String(JOBS) });
    } finally {
      for (const c of children) c.kill();
      await parent.stop();
    }
  }, 120_000);
});
