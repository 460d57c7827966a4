/**
 * Every `jobwing` command through the real binary, on a SQLite file and on Postgres (when
 * JOBWING_TEST_PG_URL is set): tables for humans, `--json` for scripts, exit 1 with the
 * reason on stderr when the operation fails, and the process ends on its own each time.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { JobClient, type Job, type JobHistoryEntry, type JobPage, type Metrics } from '../../src/index.js';
import { jobwing, json, seededPostgres, seededSqlite, type SeededStore } from './cli-harness.js';

const PG_URL = process.env.JOBWING_TEST_PG_URL || undefined;
if (!PG_URL) console.warn('[jobwing] Postgres variant of the CLI tests SKIPPED: set JOBWING_TEST_PG_URL to run it.');

const kinds = [
  { name: 'sqlite', skip: false, seed: seededSqlite },
  { name: `postgres${PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)'}`, skip: !PG_URL, seed: () => seededPostgres(PG_URL!) },
];

for (const kind of kinds) {
  describe.skipIf(kind.skip)(`jobwing on ${kind.name}`, () => {
    let store: SeededStore;
    const run = (...args: string[]) => jobwing([...args, ...store.flags]);
    beforeAll(async () => {
      store = await kind.seed();
    });
    afterAll(() => store?.destroy());

    // Read-only commands, side by side.
    describe.concurrent('reading', () => {
      it('list prints a table of every job, newest first', async ({ expect }) => {
        const r = await run('list');
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        const lines = r.stdout.trimEnd().split('\n');
        expect(lines[0]).toMatch(/^ID\s+TYPE\s+ORG\s+STATUS\s+PRIORITY\s+PROGRESS\s+RETRIES\s+CREATED$/);
        expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([store.ids.scheduled, store.ids.deadLetter, store.ids.completed]);
        expect(lines[2]).toMatch(/\bbroken\s+globex\s+dead_letter\s+normal\b/);
      });

      it('list --json filters by status, type and org, and pages with --cursor', async ({ expect }) => {
        const [dead, acme, adds, both, first] = await Promise.all([
          run('list', '--json', '--status', 'dead_letter'),
          run('list', '--json', '--org', 'acme'),
          run('list', '--json', '--type', 'add', '--status', 'completed'),
          run('list', '--json', '--status', 'completed,dead_letter'),
          run('list', '--json', '--limit', '2'),
        ]);
        expect(json<JobPage<Job>>(dead).items.map((j) => j.id)).toEqual([store.ids.deadLetter]);
        expect(json<JobPage<Job>>(acme).items.map((j) => j.id)).toEqual([store.ids.scheduled, store.ids.completed]);
        expect(json<JobPage<Job>>(adds).items.map((j) => j.id)).toEqual([store.ids.completed]);
        expect(json<JobPage<Job>>(both).items).toHaveLength(2);
        const page1 = json<JobPage<Job>>(first);
        expect(page1.items).toHaveLength(2);
        expect(page1.nextCursor).toEqual(expect.any(String));
        const page2 = json<JobPage<Job>>(await run('list', '--json', '--limit', '2', '--cursor', page1.nextCursor!));
        expect(page2.items.map((j) => j.id)).toEqual([store.ids.completed]);
        expect(page2.nextCursor).toBeNull();
      });

      it('list says so when nothing matches, and shows how to get the next page', async ({ expect }) => {
        const [none, paged] = await Promise.all([run('list', '--status', 'running'), run('list', '--limit', '1')]);
        expect(none.code).toBe(0);
        expect(none.stdout).toBe('No jobs match.\n');
        expect(paged.stdout).toMatch(/\nMore jobs: add --cursor \S+\n$/);
      });

      it('show prints a job field by field; --json is the Job', async ({ expect }) => {
        const [human, machine] = await Promise.all([run('show', store.ids.deadLetter), run('show', store.ids.completed, '--json')]);
        expect(human.code, human.stderr).toBe(0);
        expect(human.stdout).toMatch(new RegExp(`^id:\\s+${store.ids.deadLetter}$`, 'm'));
        expect(human.stdout).toMatch(/^status:\s+dead_letter$/m);
        expect(human.stdout).toMatch(/^error:\s+permanent: cannot ever work$/m);
        expect(human.stdout).toMatch(/^org:\s+globex$/m);
        const job = json<Job & { createdAt: string }>(machine);
        expect(job).toMatchObject({ id: store.ids.completed, type: 'add', status: 'completed', orgId: 'acme', input: { a: 1, b: 2 }, output: { sum: 3 } });
        expect(job.createdAt).toBe('2026-01-01T00:00:00.000Z');
      });

      it('history lists the transitions oldest first; --json is { items }', async ({ expect }) => {
        const [human, machine] = await Promise.all([run('history', store.ids.deadLetter), run('history', store.ids.deadLetter, '--json')]);
        expect(human.code, human.stderr).toBe(0);
        const lines = human.stdout.trimEnd().split('\n');
        expect(lines[0]).toMatch(/^AT\s+FROM\s+TO\s+ATTEMPT\s+ACTOR\s+MESSAGE$/);
        expect(lines.slice(1).map((l) => l.split(/\s+/).slice(2, 4))).toEqual([
          ['-', 'queued'],
          ['queued', 'running'],
          ['running', 'dead_letter'],
        ]);
        expect(lines[3]).toContain('permanent: cannot ever work');
        const { items } = json<{ items: JobHistoryEntry[] }>(machine);
        expect(items.map((h) => h.to)).toEqual(['queued', 'running', 'dead_letter']);
      });

      it('stats prints counts by status and queue depth; --json is the Metrics', async ({ expect }) => {
        const [human, machine, acme] = await Promise.all([run('stats'), run('stats', '--json', '--since', '2025-12-31T00:00:00Z'), run('stats', '--json', '--org', 'acme')]);
        expect(human.code, human.stderr).toBe(0);
        expect(human.stdout).toMatch(/^completed\s+1$/m);
        expect(human.stdout).toMatch(/^dead_letter\s+1$/m);
        expect(human.stdout).toMatch(/^scheduled\s+1$/m);
        expect(human.stdout).toMatch(/^PRIORITY\s+QUEUED$/m);
        const m = json<Metrics>(machine);
        expect(m.countsByStatus).toMatchObject({ completed: 1, dead_letter: 1, scheduled: 1, queued: 0 });
        expect(m.failureRateByType.broken).toMatchObject({ completed: 0, failed: 1 });
        expect(json<Metrics>(acme).countsByStatus).toMatchObject({ completed: 1, dead_letter: 0, scheduled: 1 });
      });

      it('explain says why a job is not running (or that this build has no explain)', async ({ expect }) => {
        const r = await run('explain', store.ids.scheduled, '--json');
        if (typeof (JobClient.prototype as unknown as { explain?: unknown }).explain === 'function') {
          expect(r.code, r.stderr).toBe(0);
          expect(json(r)).toMatchObject({ jobId: store.ids.scheduled, status: 'scheduled', reason: 'scheduled' });
        } else {
          expect(r.code).toBe(1);
          expect(r.stderr).toContain('explain is not available');
        }
      });

      it('an id that does not exist: exit 1, "not found" on stderr, nothing on stdout', async ({ expect }) => {
        const runs = await Promise.all(['show', 'history', 'retry', 'cancel'].map((c) => run(c, 'no-such-job')));
        for (const r of runs) {
          expect(r.code, r.stderr).toBe(1);
          expect(r.stderr).toBe('error: Job "no-such-job" not found (NOT_FOUND)\n');
          expect(r.stdout).toBe('');
        }
      });
    });

    // Changes, in order: each step sees the one before.
    describe('acting', () => {
      it('retry puts a dead_letter job back in the queue; again is exit 1 INVALID_STATE', async ({ expect }) => {
        const r = await run('retry', store.ids.deadLetter);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe(`Job ${store.ids.deadLetter} (broken) is queued again.\n`);
        const again = await run('retry', store.ids.deadLetter, '--json');
        expect(again.code).toBe(1);
        expect(again.stderr).toContain('Cannot retry a queued job');
        expect(again.stderr).toContain('INVALID_STATE');
        expect(again.stdout).toBe('');
      });

      it('cancel cancels a live job as system; a finished one is exit 1', async ({ expect }) => {
        const r = await run('cancel', store.ids.scheduled, '--json');
        expect(r.code, r.stderr).toBe(0);
        expect(json<Job>(r)).toMatchObject({ id: store.ids.scheduled, status: 'canceled', canceledBy: 'system' });
        const done = await run('cancel', store.ids.completed);
        expect(done.code).toBe(1);
        expect(done.stderr).toContain('Cannot cancel a completed job');
      });

      it('cleanup deletes finished jobs older than the cutoff and nothing live', async ({ expect }) => {
        const none = await run('cleanup', '--older-than', '3650d', '--json');
        expect(none.code, none.stderr).toBe(0);
        expect(json(none)).toEqual({ deleted: 0 });
        // The completed job finished on 2026-01-01 (the seed's clock); the canceled one just now.
        const r = await run('cleanup', '--older-than', '1d');
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe('Deleted 1 finished job older than 1d.\n');
        const left = json<JobPage<Job>>(await run('list', '--json'));
        expect(left.items.map((j) => [j.id, j.status])).toEqual([
          [store.ids.scheduled, 'canceled'],
          [store.ids.deadLetter, 'queued'],
        ]);
      });
    });
  });
}

describe.skipIf(!PG_URL)(`jobwing on a Postgres store that is not there${PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)'}`, () => {
  it('a schema that does not exist: exit 1 naming it, and it is not created', async ({ expect }) => {
    const schema = `jobwing_cli_missing_${process.pid}`;
    const r = await jobwing(['list', '--db', PG_URL!, '--schema', schema]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`No schema "${schema}" in `);
    expect(r.stdout).toBe('');
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      expect((await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('an unreachable server: exit 1 naming the URL without its password', async ({ expect }) => {
    const r = await jobwing(['stats', '--db', 'postgres://postgres:hunter2@127.0.0.1:1/none']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('Cannot open postgres://postgres:***@127.0.0.1:1/none');
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stdout).toBe('');
  });
});
