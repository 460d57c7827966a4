/** S1–S7 of RELIABILITY.md: tenant isolation, admin-only verbs, names, SQL, sizes. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineJobType,
  JobNotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  UnknownJobTypeError,
  ValidationError,
} from '../../src/index.js';
import { drain, EventRecorder } from '../../src/testing/index.js';
import { add, gate, setupEngine } from '../helpers/fixtures.js';

const setup = setupEngine;

const echo = defineJobType({
  name: 'echo',
  input: z.object({ text: z.string() }).passthrough(),
  dedupWindowMs: 60_000,
  async handler(input) {
    return input;
  },
});

describe('S1: every verb on another org\'s job is JobNotFoundError and changes nothing', () => {
  it('get, cancel, history, and dependsOn all behave as for a missing id', async () => {
    const g = gate();
    const { engine } = await setup({ jobTypes: [add, g.type] });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const eve = engine.as({ userId: 'eve', orgId: 'evil' });
    const queued = await alice.submit('add', { a: 1, b: 2 }, { delayMs: 60_000 });
    const running = await alice.submit('gated', { key: 'r' });
    await g.nextStart();
    for (const target of [queued, running]) {
      const before = await alice.get(target.id);
      const historyBefore = await alice.history(target.id);
      const verbs: [string, () => Promise<unknown>][] = [
        ['get', () => eve.get(target.id)],
        ['cancel', () => eve.cancel(target.id)],
        ['history', () => eve.history(target.id)],
        ['dependsOn', () => eve.submit('add', { a: 9, b: 9 }, { dependsOn: [target.id] })],
      ];
      for (const [name, call] of verbs) {
        const err = await call().then(() => null, (e: unknown) => e);
        expect(err, name).toBeInstanceOf(JobNotFoundError);
        expect((err as Error).message, name).toBe(new JobNotFoundError(target.id).message);
      }
      expect(await alice.get(target.id)).toEqual(before);
      expect(await alice.history(target.id)).toEqual(historyBefore);
    }
    expect((await eve.list()).items).toEqual([]);
    expect((await eve.metrics()).countsByStatus.queued + (await eve.metrics()).countsByStatus.scheduled).toBe(0);
    // A missing id and a foreign id are indistinguishable.
    await expect(eve.get('00000000-0000-0000-0000-000000000000')).rejects.toBeInstanceOf(JobNotFoundError);
    g.release(running.id);
  });
});

describe('S2: the org always comes from the actor', () => {
  it('orgId in options is rejected for scoped clients; orgId in input is only data', async () => {
    const { engine } = await setup({ jobTypes: [echo], worker: false });
    const eve = engine.as({ userId: 'eve', orgId: 'evil' });
    const err = await eve.submit('echo', { text: 'x' }, { orgId: 'acme' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]!.path).toEqual(['options', 'orgId']);
    const job = await eve.submit('echo', { text: 'y', orgId: 'acme' } as never);
    expect(job.orgId).toBe('evil');
    expect((await engine.system.list({ orgId: 'acme' })).items).toHaveLength(0);
    await expect(eve.list({ orgId: 'acme' })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(eve.metrics({ orgId: 'acme' })).rejects.toBeInstanceOf(PermissionDeniedError);
    // Trusted code may choose the org.
    const sys = await engine.system.submit('echo', { text: 'z' }, { orgId: 'acme' });
    expect(sys.orgId).toBe('acme');
    expect((await engine.system.submit('echo', { text: 'w' })).orgId).toBe('default');
  });
});

describe('S3: only admins act across orgs; retry and updateJobType are admin-only', () => {
  it('non-admins get PermissionDeniedError and nothing changes', async () => {
    const { engine } = await setup({ jobTypes: [add] });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const admin = engine.as({ userId: 'root', orgId: 'ops', admin: true });
    const job = await alice.submit('add', { a: 1, b: 1 });
    await alice.cancel(job.id);
    await expect(alice.retry(job.id)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(alice.updateJobType('add', { enabled: false })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(alice.cleanup({ olderThanMs: 0 })).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await alice.get(job.id)).status).toBe('canceled');
    expect((await alice.jobTypes())[0]!.enabled).toBe(true);
    // Admins see and act across orgs.
    expect((await admin.list()).items.map((j) => j.id)).toContain(job.id);
    expect((await admin.list({ orgId: 'other' })).items).toHaveLength(0);
    expect((await admin.retry(job.id)).status).toBe('queued');
  });
});

describe('S4: dedup, dependencies and events never cross orgs', () => {
  it('same input in two orgs → two jobs; events reach only the own org (admins: all)', async () => {
    const { engine } = await setup({ jobTypes: [echo] });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const eve = engine.as({ userId: 'eve', orgId: 'evil' });
    const admin = engine.as({ userId: 'root', orgId: 'ops', admin: true });
    const aliceEvents = new EventRecorder(alice);
    const eveEvents = new EventRecorder(eve);
    const adminEvents = new EventRecorder(admin);
    const a = await alice.submit('echo', { text: 'same' });
    const e = await eve.submit('echo', { text: 'same' });
    expect(a.dedupHash).not.toBe(e.dedupHash);
    await drain(engine);
    expect(new Set(aliceEvents.status.map((x) => x.orgId))).toEqual(new Set(['acme']));
    expect(new Set(eveEvents.status.map((x) => x.orgId))).toEqual(new Set(['evil']));
    expect(new Set(adminEvents.status.map((x) => x.orgId))).toEqual(new Set(['acme', 'evil']));
    expect(aliceEvents.transitionsOf(a.id)).toEqual(['null→queued', 'queued→running', 'running→completed']);
  });
});

describe('S5: job type names resolve only from the registry', () => {
  it.each(['__proto__', 'constructor', 'toString', '../x', 'add ', 'ADD', 'x'.repeat(10_000), ''])('%s is UnknownJobTypeError', async (name) => {
    const { engine } = await setup({ jobTypes: [add], worker: false });
    const err = await engine.system.submit(name as 'add', { a: 1, b: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownJobTypeError);
    expect((err as Error).message.length).toBeLessThan(200);
    expect((await engine.system.list()).items).toHaveLength(0);
  });

  it('non-string names are UnknownJobTypeError too', async () => {
    const { engine } = await setup({ jobTypes: [add], worker: false });
    for (const name of [null, undefined, 42, {}, ['add']]) {
      await expect(engine.system.submit(name as unknown as 'add', { a: 1, b: 1 })).rejects.toBeInstanceOf(UnknownJobTypeError);
    }
  });
});

describe('S6: SQL metacharacters are stored verbatim', () => {
  it('ids, orgs, owners and input with quotes and semicolons round-trip', async () => {
    const { engine } = await setup({ jobTypes: [echo] });
    const nasty = `'; DROP TABLE jobs; -- "\\ %_`;
    const client = engine.as({ userId: nasty, orgId: nasty });
    const job = await client.submit('echo', { text: nasty });
    await drain(engine);
    const got = await client.get(job.id);
    expect(got.orgId).toBe(nasty);
    expect(got.ownerId).toBe(nasty);
    expect(got.input).toEqual({ text: nasty });
    expect(got.output).toEqual({ text: nasty });
    expect((await client.list({ ownerId: nasty })).items).toHaveLength(1);
    expect((await client.list({ ownerId: '%' })).items).toHaveLength(0);
    await expect(client.get(`${job.id}' OR '1'='1`)).rejects.toBeInstanceOf(JobNotFoundError);
  });
});

describe('S7: size limits', () => {
  it('oversized input is PayloadTooLargeError, nothing written', async () => {
    const { engine } = await setup({ jobTypes: [echo], worker: false });
    const err = await engine.system.submit('echo', { text: 'x'.repeat(256 * 1024) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as PayloadTooLargeError).field).toBe('input');
    expect((await engine.system.list()).items).toHaveLength(0);
  });

  it('oversized output fails the attempt permanently; long error messages are truncated', async () => {
    const big = defineJobType({
      name: 'big',
      input: z.object({ mode: z.enum(['output', 'error']) }),
      dedupWindowMs: 0,
      async handler(input) {
        if (input.mode === 'error') throw new Error('e'.repeat(100_000));
        return 'o'.repeat(300 * 1024);
      },
    });
    const { engine } = await setup({ jobTypes: [big] });
    const o = await engine.system.submit('big', { mode: 'output' });
    const e = await engine.system.submit('big', { mode: 'error' }, { maxRetries: 0 });
    await drain(engine);
    const go = await engine.system.get(o.id);
    expect(go.status).toBe('dead_letter');
    expect(go.error?.message).toMatch(/output/);
    const ge = await engine.system.get(e.id);
    expect(ge.status).toBe('dead_letter');
    expect(ge.error!.message.length).toBeLessThanOrEqual(4096);
  });

  it('progress messages over 1 KiB are refused', async () => {
    let caught: unknown;
    const chatty = defineJobType({
      name: 'chatty',
      input: z.object({}),
      dedupWindowMs: 0,
      async handler(_i, ctx) {
        caught = await ctx.progress(10, 'm'.repeat(2000)).catch((err: unknown) => err);
        await ctx.progress(101).catch((err: unknown) => (caught = [caught, err]));
      },
    });
    const { engine } = await setup({ jobTypes: [chatty] });
    await engine.system.submit('chatty', {});
    await drain(engine);
    const [first, second] = caught as [Error, Error];
    expect(first).toBeInstanceOf(ValidationError);
    expect(second).toBeInstanceOf(ValidationError);
  });
});
