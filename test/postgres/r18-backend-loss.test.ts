/**
 * R18 on Postgres: while two worker processes run jobs, every backend they have (pool and
 * LISTEN connections) is killed with `pg_terminate_backend`, five times. The workers do not
 * crash, reconnect, and every job still ends terminal with exactly one terminal transition;
 * nothing is lost. (A claim whose commit was acknowledged to a dead connection is rescued by
 * the lease and retried: that is the `worker_lost` path, still one terminal transition.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isTerminal, JobEngine } from '../../src/index.js';
import { postgresStorage } from '../../src/postgres.js';
import { adminQuery, Child, PG_URL, SKIP_REASON, testSchema, withApplicationName } from './fixtures/children.js';
import { ALL_JOB_TYPES } from './fixtures/jobs.js';

const JOBS = 600;
const KILL_AT = [60, 150, 250, 350, 450]; // completions after which the workers' backends are killed
const schema = testSchema('r18');
const workerApp = `${schema}_w`.slice(0, 60);

afterAll(async () => {
  if (PG_URL) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});

describe.skipIf(!PG_URL)(`R18 backends terminated mid-run ${PG_URL ? '' : SKIP_REASON}`, () => {
  it('workers reconnect; every job ends terminal; nothing lost', async () => {
    const url = PG_URL!;
    const parent = new JobEngine({
      jobTypes: ALL_JOB_TYPES,
      worker: false,
      leaseMs: 2_000,
      pollIntervalMs: 200,
      storage: postgresStorage({ connectionString: url, schema, poolSize: 4 }),
    });
    await parent.start();
    const children: Child[] = [];
    try {
      const jobs = await parent.system.submitMany(Array.from({ length: JOBS }, (_, n) => ({ type: 'slow' as const, input: { n } })));
      const ids = new Set(jobs.map((j) => j.id));
      const terminal = new Set<string>();
      let completed = 0;
      const milestones = new Map<number, () => void>();
      const reached = (count: number) => new Promise<void>((resolve) => milestones.set(count, resolve));
      const waits = [...KILL_AT, JOBS].map((k) => [k, reached(k)] as const);
      parent.on('job:status', (e) => {
        if (e.to === 'completed') milestones.get(++completed)?.();
        if (isTerminal(e.to) && ids.has(e.jobId) && !terminal.has(e.jobId)) {
          terminal.add(e.jobId);
          if (terminal.size === JOBS) milestones.get(-1)?.();
        }
      });
      const allTerminal = new Promise<void>((resolve) => milestones.set(-1, resolve));

      const workerUrl = withApplicationName(url, workerApp);
      for (let i = 0; i < 2; i++) children.push(new Child('worker.ts', [workerUrl, schema, '8', '2000', '200']));
      await Promise.all(children.map((c) => c.next('ready')));
      for (const c of children) c.send({ type: 'go' });

      const killed: number[] = [];
      for (const [count, wait] of waits.slice(0, KILL_AT.length)) {
        await wait;
        // The filter runs first (subquery), so only the workers' backends are ever touched.
        const rows = await adminQuery<{ pid: number }>(
          `SELECT pid, pg_terminate_backend(pid) FROM (
             SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()
           ) AS ours`,
          [workerApp],
        );
        killed.push(rows.length);
        console.log(`[R18] after ${count} completions: terminated ${rows.length} worker backends`);
      }
      expect(killed[0]).toBeGreaterThan(0);
      await allTerminal;

      for (const c of children) c.send({ type: 'stop' });
      const reports = await Promise.all(children.map((c) => c.next('runs')));
      expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0]); // no crash
      const errors = reports.flatMap((r) => r.errors);
      console.log(`[R18] engine errors reported by the workers (first ${errors.length}): ${errors.slice(0, 3).join(' | ')}`);

      const byStatus = await adminQuery<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM "${schema}".jobs GROUP BY status`);
      console.log(`[R18] final statuses: ${byStatus.map((r) => `${r.status}=${r.n}`).join(', ')}`);
      expect(byStatus.every((r) => isTerminal(r.status as never))).toBe(true);
      expect(byStatus.reduce((sum, r) => sum + Number(r.n), 0)).toBe(JOBS);
      const multiTerminal = await adminQuery(
        `SELECT job_id FROM "${schema}".job_history WHERE to_status IN ('completed','canceled','dead_letter')
         GROUP BY job_id HAVING count(*) <> 1`,
      );
      expect(multiTerminal).toEqual([]);
    } finally {
      for (const c of children) c.kill();
      await parent.stop();
    }
  }, 90_000);
});
