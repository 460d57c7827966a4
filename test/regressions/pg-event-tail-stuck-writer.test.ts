/**
 * Review defect 9 (Postgres): one session that wrote an event row and stayed open (a
 * SIGSTOPped worker, a cut network) stopped every engine's event delivery until it ended: each
 * read waited 250 ms for that writer, then returned nothing, again and again. Now a read that
 * times out delivers the committed events around the stuck writer's rows and remembers the
 * gap in its cursor; once the writer ends, the gap is read, so nothing is skipped or repeated.
 */
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, type JobStatusEvent } from '../../src/index.js';
import { postgresStorage } from '../../src/postgres.js';
import { PG_URL } from '../helpers/stores.js';

const TIMED_OUT = Symbol('timed out');
/** `p`, or TIMED_OUT after a generous real-time deadline (a passing test never waits for it). */
const within = <V>(ms: number, p: Promise<V>) =>
  Promise.race([p, new Promise<typeof TIMED_OUT>((resolve) => AbortSignal.timeout(ms).addEventListener('abort', () => resolve(TIMED_OUT)))]);

const work = defineJobType({ name: 'work', input: z.object({ n: z.number() }), dedupWindowMs: 0, async handler() {} });

describe.skipIf(!PG_URL)(`Postgres event tail beside a stuck writer${PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)'}`, () => {
  it('keeps delivering committed events while a foreign transaction holding an event row stays open, then delivers that row once it commits', async () => {
    const schema = `jobwing_stuck_${Math.random().toString(36).slice(2, 10)}`;
    const engine = new JobEngine({ jobTypes: [work], storage: postgresStorage({ connectionString: PG_URL!, schema, poolSize: 4 }), pollIntervalMs: 100 });
    const events: JobStatusEvent[] = [];
    const waiters: { pred: (e: JobStatusEvent) => boolean; resolve: () => void }[] = [];
    engine.on('job:status', (e) => {
      events.push(e);
      for (const w of waiters.splice(0)) if (w.pred(e)) w.resolve(); else waiters.push(w);
    });
    /** Resolves once an event matching `pred` has arrived (already or later). */
    const seen = (pred: (e: JobStatusEvent) => boolean) =>
      new Promise<void>((resolve) => (events.some(pred) ? resolve() : waiters.push({ pred, resolve })));
    await engine.start();
    const foreign = new pg.Client({ connectionString: PG_URL });
    await foreign.connect();
    onTestFinished(async () => {
      await foreign.query('ROLLBACK').catch(() => undefined);
      await engine.stop({ graceMs: 0 });
      await foreign.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await foreign.end();
    });
    const completed = (id: string) => seen((e) => e.jobId === id && e.to === 'completed' && e.from === 'running');

    const first = await engine.system.submit('work', { n: 1 });
    await completed(first.id);
    // A foreign session writes an event row for that job and stays open.
    await foreign.query('BEGIN');
    await foreign.query(`INSERT INTO "${schema}".job_history (job_id, at, from_status, to_status, attempt, actor_id) VALUES ($1, $2, 'completed', 'completed', 1, 'foreign')`, [first.id, Date.now()]);

    const second = await engine.system.submit('work', { n: 2 });
    expect(await within(3_000, completed(second.id))).not.toBe(TIMED_OUT);
    const third = await engine.system.submit('work', { n: 3 });
    expect(await within(3_000, completed(third.id))).not.toBe(TIMED_OUT);

    await foreign.query('COMMIT');
    const foreignEvent = seen((e) => e.jobId === first.id && e.from === 'completed');
    expect(await within(3_000, foreignEvent)).not.toBe(TIMED_OUT);
    // Each event exactly once.
    const keys = events.map((e) => `${e.jobId}:${e.from}->${e.to}:${e.attempt}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const id of [first.id, second.id, third.id]) {
      expect(events.filter((e) => e.jobId === id && e.from !== 'completed').map((e) => e.to)).toEqual(['queued', 'running', 'completed']);
    }
  }, 20_000);
});
