/**
 * A job type declared without its handler (web process) and implemented elsewhere (worker):
 * typed on both sides, claimed only where implemented, and refused where nothing can run.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, sqliteStorage, ValidationError, type JobType, type JobTypeDeclaration } from '../../src/index.js';
import { drain, runJob } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { sharedStore } from './shared-store.js';

// Shared by "web" and "worker": schemas and settings, no handler.
const sendReport = defineJobType({
  name: 'send-report',
  input: z.object({ reportId: z.string(), pages: z.number().default(1) }),
  output: z.object({ url: z.string() }),
  checkpoint: z.object({ page: z.number() }),
  maxRetries: 2,
  dedupWindowMs: 0,
});
const sendReportWorker = sendReport.implement(async (input, ctx) => {
  await ctx.progress(50);
  return { url: `https://r/${input.reportId}/${input.pages}` };
});
const other = defineJobType({ name: 'other', input: z.object({ n: z.number() }), dedupWindowMs: 0 });

describe('types of a split declaration', () => {
  it('a declaration types submit and get without a handler; implement types the handler', () => {
    expectTypeOf(sendReport).toEqualTypeOf<JobTypeDeclaration<'send-report', typeof sendReport.input, typeof sendReport.output & {}, typeof sendReport.checkpoint & {}>>();
    expectTypeOf(sendReportWorker).toMatchTypeOf<JobType<'send-report'>>();
    expectTypeOf(sendReport.handler).toEqualTypeOf<undefined>();
    expectTypeOf(sendReportWorker.handler).parameter(0).toEqualTypeOf<{ reportId: string; pages: number }>();
    sendReport.implement(async (input, ctx) => {
      expectTypeOf(input).toEqualTypeOf<{ reportId: string; pages: number }>();
      expectTypeOf(ctx.checkpoint).toEqualTypeOf<{ page: number } | undefined>();
      return { url: 'x' };
    });
    // @ts-expect-error the handler must return the output schema's type
    sendReport.implement(async () => ({ nope: 1 }));

    const web = new JobEngine({ jobTypes: [sendReport, other], worker: false, storage: sqliteStorage({ path: ':memory:' }) });
    type Client = typeof web.system;
    expectTypeOf<Parameters<Client['submit']>[0]>().toEqualTypeOf<'send-report' | 'other'>();
    const typedSubmit = (c: Client) => c.submit('send-report', { reportId: 'r' });
    expectTypeOf<Awaited<ReturnType<typeof typedSubmit>>['output']>().toEqualTypeOf<{ url: string } | null>();
    const typedGet = async (c: Client) => c.get((await typedSubmit(c)).id);
    expectTypeOf<Awaited<ReturnType<typeof typedGet>>['output']>().toEqualTypeOf<{ url: string } | null>();
    expectTypeOf<Awaited<ReturnType<typeof typedGet>>['input']>().toEqualTypeOf<{ reportId: string; pages: number }>();
    const typedWait = async (c: Client) => c.waitFor((await typedSubmit(c)).id);
    expectTypeOf<Awaited<ReturnType<typeof typedWait>>['output']>().toEqualTypeOf<{ url: string } | null>();
    expectTypeOf<Awaited<ReturnType<typeof typedWait>>['checkpoint']>().toEqualTypeOf<{ page: number } | null>();
    // @ts-expect-error input is checked against the declaration's schema
    const badInput = (c: Client) => c.submit('send-report', { reportId: 1 });
    void badInput;
    void web.stop();
  });

  it('implement keeps the declaration unchanged and refuses a non-function', () => {
    expect(sendReport.handler).toBeUndefined();
    expect(sendReportWorker.name).toBe('send-report');
    expect(sendReportWorker.maxRetries).toBe(2);
    expect(sendReportWorker.input).toBe(sendReport.input);
    expect(() => sendReport.implement('nope' as never)).toThrow(/implement\(\) takes the handler function/);
  });

  it('runJob refuses a declaration and runs its implementation', async () => {
    await expect(runJob(sendReport as never, { reportId: 'r' } as never)).rejects.toThrow(/has no handler; pass the result of \.implement/);
    const r = await runJob(sendReportWorker, { reportId: 'r' });
    expect(r).toMatchObject({ status: 'completed', output: { url: 'https://r/r/1' } });
  });
});

describe('engines refuse a worker with nothing to run', () => {
  const storage = () => sqliteStorage({ path: ':memory:' });
  it('jobTypes: [] on a worker is a ValidationError naming jobTypes', () => {
    const e = (() => {
      try {
        new JobEngine({ jobTypes: [], storage: storage() });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).issues[0]!.path).toEqual(['jobTypes']);
    expect((e as Error).message).toMatch(/worker engine needs at least one job type with a handler.*worker: false/);
  });

  it('only declarations on a worker is a ValidationError that names them', () => {
    expect(() => new JobEngine({ jobTypes: [sendReport, other], storage: storage() })).toThrow(ValidationError);
    expect(() => new JobEngine({ jobTypes: [sendReport, other], storage: storage() })).toThrow(/"send-report", "other" are only declared \(call \.implement\(handler\)\)/);
  });

  it('worker: false accepts declarations only, and an empty list', async () => {
    const a = new JobEngine({ jobTypes: [sendReport], worker: false, storage: storage() });
    const b = new JobEngine({ jobTypes: [], worker: false, storage: storage() });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a duplicate type name is a ValidationError naming its position', () => {
    let err: unknown;
    try {
      new JobEngine({ jobTypes: [sendReport, sendReportWorker], worker: false, storage: storage() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]!.path).toEqual(['jobTypes', 1]);
    expect((err as Error).message).toContain('job type "send-report" is registered twice');
  });

  it('a non-job-type entry is a ValidationError naming its position', () => {
    expect(() => new JobEngine({ jobTypes: [{ name: 'x' }] as never, worker: false, storage: storage() })).toThrow(/jobTypes\.0: must be a result of defineJobType\(\)/);
  });
});

for (const kind of storeKinds()) describe(`split declaration on ${kind.name}${kind.skip}`, () => {
  it.skipIf(kind.skip !== '')('a web engine submits a declared type; only a worker that implements it claims it', async () => {
    const s = sharedStore(kind);
    const web = await s.engine({ jobTypes: [sendReport, other], worker: false });
    // This worker implements only `other`: it must never claim send-report.
    const otherWorker = await s.engine({ jobTypes: [sendReport, other.implement(async (i) => ({ n: i.n }))] });
    const report = await web.system.submit('send-report', { reportId: 'q3' });
    const o = await web.system.submit('other', { n: 7 });
    await s.clock.advance(1000);
    await drain(otherWorker);
    expect((await web.system.get(o.id)).status).toBe('completed');
    expect((await web.system.get(report.id)).status).toBe('queued');

    const reportWorker = await s.engine({ jobTypes: [sendReportWorker] });
    await s.clock.advance(1000);
    await drain(reportWorker);
    const done = await web.system.get(report.id);
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ url: 'https://r/q3/1' });
    expect(done.maxRetries).toBe(2);
  });
});
