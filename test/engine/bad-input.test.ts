/** R15: every bad input gets a clear error naming what is wrong; nothing is written, no event, no hash taken. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineJobType,
  EngineStoppedError,
  JobEngine,
  JobTypeDisabledError,
  PermissionDeniedError,
  sqliteStorage,
  UnknownJobTypeError,
  ValidationError,
} from '../../src/index.js';
import { EventRecorder } from '../../src/testing/index.js';
import { setupEngine } from '../helpers/fixtures.js';

const setup = setupEngine;

const report = defineJobType({
  name: 'send-report',
  input: z.object({ reportId: z.string(), email: z.string().email() }),
  requiresPermission: 'reports:send',
  async handler() {
    return null;
  },
});
const off = defineJobType({ name: 'off', input: z.object({}), enabled: false, async handler() { return null; } });

describe('bad submits write nothing', () => {
  it('each error names what is wrong, and afterwards the same valid submit is not a duplicate', async () => {
    const { engine } = await setup({ jobTypes: [report, off], worker: false });
    const events = new EventRecorder(engine);
    const alice = engine.as({ userId: 'alice', orgId: 'acme', permissions: ['reports:send'] });
    const nobody = engine.as({ userId: 'nobody', orgId: 'acme' });
    const valid = { reportId: 'r1', email: 'a@b.co' };
    const cases: [string, () => Promise<unknown>, new (...a: never[]) => Error, RegExp | ((e: never) => void)][] = [
      ['wrong type', () => alice.submit('send-report', { reportId: 1, email: 'a@b.co' } as never), ValidationError, /reportId/],
      ['missing field', () => alice.submit('send-report', { reportId: 'r1' } as never), ValidationError, /email/],
      ['bad email', () => alice.submit('send-report', { reportId: 'r1', email: 'nope' }), ValidationError, /email/],
      ['oversized', () => alice.submit('send-report', { reportId: 'x'.repeat(300_000), email: 'a@b.co' }), Error, /256|bytes/],
      ['unknown type', () => alice.submit('nope' as never, valid as never), UnknownJobTypeError, /nope/],
      ['disabled type', () => alice.submit('off', {}), JobTypeDisabledError, /off/],
      ['missing permission', () => nobody.submit('send-report', valid), PermissionDeniedError, /reports:send/],
      ['bad priority', () => alice.submit('send-report', valid, { priority: 'urgent' as never }), ValidationError, /priority/],
      ['negative delay', () => alice.submit('send-report', valid, { delayMs: -1 }), ValidationError, /delayMs/],
      ['runAt and delayMs', () => alice.submit('send-report', valid, { delayMs: 1, runAt: new Date() }), ValidationError, /runAt/],
      ['invalid date', () => alice.submit('send-report', valid, { runAt: new Date('x') }), ValidationError, /runAt/],
      ['unknown option', () => alice.submit('send-report', valid, { prio: 'high' } as never), ValidationError, /prio/],
      ['bad timeout', () => alice.submit('send-report', valid, { timeoutMs: 0 }), ValidationError, /timeoutMs/],
      ['bad maxRetries', () => alice.submit('send-report', valid, { maxRetries: 1.5 }), ValidationError, /maxRetries/],
      ['bad dependsOn', () => alice.submit('send-report', valid, { dependsOn: 'x' as never }), ValidationError, /dependsOn/],
    ];
    for (const [name, call, cls, check] of cases) {
      const err = await call().then(() => null, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(cls);
      if (check instanceof RegExp) expect((err as Error).message, name).toMatch(check);
    }
    const zodErr = (await alice.submit('send-report', { reportId: 1 } as never).catch((e: unknown) => e)) as ValidationError;
    expect(zodErr.code).toBe('VALIDATION');
    expect(zodErr.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['input.reportId', 'input.email']));
    expect((await engine.system.list()).items).toHaveLength(0);
    expect(events.status).toHaveLength(0);
    // No dedup hash was taken by any rejected call.
    const ok = await alice.submit('send-report', valid);
    expect(ok.status).toBe('queued');
  });

  it('submitMany is all or nothing, and error paths carry the entry index', async () => {
    const { engine } = await setup({ jobTypes: [report], worker: false });
    const alice = engine.as({ userId: 'alice', orgId: 'acme', permissions: ['reports:send'] });
    const err = (await alice
      .submitMany([
        { type: 'send-report', input: { reportId: 'a', email: 'a@b.co' } },
        { type: 'send-report', input: { reportId: 'b', email: 'bad' } },
      ])
      .catch((e: unknown) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues[0]!.path).toEqual([1, 'input', 'email']);
    // a duplicate inside the batch also rejects the whole batch
    await expect(
      alice.submitMany([
        { type: 'send-report', input: { reportId: 'c', email: 'a@b.co' } },
        { type: 'send-report', input: { reportId: 'c', email: 'a@b.co' } },
      ]),
    ).rejects.toMatchObject({ code: 'DUPLICATE' });
    expect((await alice.list()).items).toHaveLength(0);
    const jobs = await alice.submitMany([
      { type: 'send-report', input: { reportId: 'a', email: 'a@b.co' } },
      { type: 'send-report', input: { reportId: 'b', email: 'a@b.co' }, options: { priority: 'high' } },
    ]);
    expect(jobs.map((j) => j.priority)).toEqual(['normal', 'high']);
  });

  it('bad list, metrics, actor, engine and job type options name the field', async () => {
    const { engine } = await setup({ jobTypes: [report], worker: false });
    const s = engine.system;
    await expect(s.list({ limit: 501 })).rejects.toThrow(/limit/);
    await expect(s.list({ status: 'done' as never })).rejects.toThrow(/status/);
    await expect(s.list({ cursor: 'garbage!' })).rejects.toThrow(/cursor/);
    await expect(s.metrics({ since: 'yesterday' as never })).rejects.toThrow(/since/);
    await expect(s.updateJobType('send-report', { maxRetries: -1 })).rejects.toThrow(/maxRetries/);
    await expect(s.updateJobType('send-report', { color: 'red' } as never)).rejects.toThrow(/color/);
    await expect(s.updateJobType('nope' as never, { enabled: false })).rejects.toBeInstanceOf(UnknownJobTypeError);
    expect(() => engine.as({ userId: '', orgId: 'acme' })).toThrow(/userId/);
    expect(() => engine.as({ userId: 'u' } as never)).toThrow(/orgId/);
    expect(() => new JobEngine({ jobTypes: [report], concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new JobEngine({ jobTypes: [report], leaseMs: 'x' as never })).toThrow(/leaseMs/);
    expect(() => new JobEngine({ jobTypes: [report, report] })).toThrow(/twice/);
    expect(() => sqliteStorage({ synchronous: 'OFF' as never })).toThrow(/synchronous/);
    expect(() => defineJobType({ name: 'Bad Name', input: z.object({}), async handler() { return null; } })).toThrow(/name/);
    expect(() => defineJobType({ name: 'x', input: z.object({}), maxRetries: -1, async handler() { return null; } })).toThrow(/maxRetries/);
  });

  it('verbs before start() and after stop() throw EngineStoppedError', async () => {
    const engine = new JobEngine({ jobTypes: [report], storage: sqliteStorage({ path: ':memory:' }) });
    await expect(engine.system.list()).rejects.toBeInstanceOf(EngineStoppedError);
    await engine.start();
    await engine.stop();
    await expect(engine.system.list()).rejects.toBeInstanceOf(EngineStoppedError);
    await expect(engine.start()).rejects.toBeInstanceOf(EngineStoppedError);
  });
});
