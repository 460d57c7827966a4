/** Error messages a new user meets first: they name what is wrong and how to fix it. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, DuplicateJobError, JobEngine, PayloadTooLargeError, sqliteStorage, ValidationError } from '../../src/index.js';
import { postgresStorage } from '../../src/postgres.js';
import { runJob } from '../../src/testing/index.js';
import { add, setupEngine } from '../helpers/fixtures.js';

const blob = defineJobType({
  name: 'blob',
  input: z.object({ s: z.string() }),
  async handler(input) {
    return { big: input.s.repeat(100) };
  },
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('clear edges', () => {
  it('a payload over the limit names the job type and the option that raises it', async () => {
    const { engine } = await setupEngine({ jobTypes: [blob], limits: { payloadBytes: 1000 } });
    const err = await engine.system.submit('blob', { s: 'x'.repeat(2000) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err).toMatchObject({ field: 'input', jobType: 'blob', limitBytes: 1000 });
    expect((err as Error).message).toMatch(/^input of job type "blob" is \d+ bytes; the limit is 1000 bytes \(raise it with the JobEngine option limits\.payloadBytes\)$/);
    const r = await runJob(blob, { s: 'x'.repeat(3000) });
    expect(r.status).toBe('dead_letter');
    expect(r.error?.message).toMatch(/output of job type "blob" is \d+ bytes.*limits\.payloadBytes/);
  });

  it('DuplicateJobError says dedup is on by default and how to turn it off', async () => {
    const deduped = defineJobType({ name: 'export', input: z.object({ id: z.string() }), async handler() { return {}; } });
    const { engine } = await setupEngine({ jobTypes: [deduped], worker: false });
    const first = await engine.system.submit('export', { id: 'r1' });
    const err = await engine.system.submit('export', { id: 'r1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateJobError);
    expect((err as DuplicateJobError).existingJobId).toBe(first.id);
    expect((err as Error).message).toContain(first.id);
    expect((err as Error).message).toMatch(/dedupKey.*dedupWindowMs: 0/);
  });

  it('an unknown option is worded the same everywhere, at its own path', async () => {
    const { engine } = await setupEngine({ jobTypes: [add] });
    const sync: [string, () => unknown][] = [
      ['JobEngine options', () => new JobEngine({ jobTypes: [add], bogus: 1 } as never)],
      ['JobEngine options', () => new JobEngine({ jobTypes: [add], retention: { bogus: 1 } } as never)],
      ['sqliteStorage options', () => sqliteStorage({ path: ':memory:', bogus: 1 } as never)],
      ['postgresStorage options', () => postgresStorage({ connectionString: 'postgres://x/y', bogus: 1 } as never)],
      ['actor', () => engine.as({ userId: 'a', orgId: 'b', bogus: 1 } as never)],
      ['health options', () => engine.health({ bogus: 1 } as never)],
    ];
    const errors = sync.map(([what, fn]) => [what, thrown(fn)] as const);
    const async: [string, () => Promise<unknown>][] = [
      ['submit options', () => engine.system.submit('add', { a: 1, b: 2 }, { bogus: 1 } as never)],
      ['list options', () => engine.system.list({ bogus: 1 } as never)],
      ['waitFor options', () => engine.system.waitFor('x', { bogus: 1 } as never)],
      ['cleanup options', () => engine.system.cleanup({ olderThanMs: 1, bogus: 1 } as never)],
    ];
    for (const [what, fn] of async) errors.push([what, (await fn().catch((e: unknown) => e)) as Error]);
    for (const [what, err] of errors) {
      expect(err, what).toBeInstanceOf(ValidationError);
      expect(err.message, what).toMatch(new RegExp(`^Invalid ${what}: (\\w+\\.)*bogus: unknown option$`));
      expect((err as ValidationError).issues.at(-1)!.path.at(-1), what).toBe('bogus');
    }
  });
});
