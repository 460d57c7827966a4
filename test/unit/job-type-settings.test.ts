/**
 * The job-type setting rules and the zod → ValidationError conversion have one home each;
 * these pin the exact wording and paths every boundary gives (defineJobType, updateJobType,
 * submit options), so moving a rule cannot change what a caller sees.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, ValidationError, type JobEngine } from '../../src/index.js';
import { createTestEngine } from '../../src/testing/index.js';
import { zodValidationError } from '../../src/validation.js';

const PRIO = 'Invalid option: expected one of "critical"|"high"|"normal"|"low"';
const input = z.object({});
/** Rejects with a ValidationError whose message is exactly `message`. */
async function expectValidation(p: Promise<unknown>, message: string): Promise<void> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as Error).message).toBe(message);
}
const define = (extra: Record<string, unknown>) => () => defineJobType({ name: 'a', input, ...extra, async handler() { return null; } } as never);

describe('zodValidationError', () => {
  it('lists each path: message, prefixed, one "unknown option" per unknown key', () => {
    const r = z.object({ n: z.number(), o: z.object({}).strict() }).strict().safeParse({ n: 'x', o: { k: 1 }, extra: 1 });
    if (r.success) throw new Error('expected a failure');
    const e = zodValidationError('thing', r.error, ['at']);
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toBe('Invalid thing: at.n: Invalid input: expected number, received string; at.o.k: unknown option; at.extra: unknown option');
    expect(e.issues.map((i) => i.path)).toEqual([['at', 'n'], ['at', 'o', 'k'], ['at', 'extra']]);
  });

  it('names the root when the path is empty', () => {
    const r = z.number().safeParse('x');
    if (r.success) throw new Error('expected a failure');
    expect(zodValidationError('value', r.error).message).toBe('Invalid value: (root): Invalid input: expected number, received string');
  });
});

describe('defineJobType: a TypeError naming the first bad field', () => {
  it.each([
    [{ priority: 'urgent' }, `priority ${PRIO}`],
    [{ backoff: { foo: 1 } }, 'backoff Unrecognized key: "foo"'],
    [{ rateLimit: { max: 0, perMs: 1 } }, 'rateLimit.max Too small: expected number to be >=1'],
    [{ timeoutMs: 0, maxRetries: -1 }, 'timeoutMs Too small: expected number to be >0'],
    [{ maxRetries: 1001 }, 'maxRetries Too big: expected number to be <=1000'],
    [{ requiresPermission: '', dedupWindowMs: -1 }, 'requiresPermission Too small: expected string to have >=1 characters'],
    [{ enabled: 'x' }, 'enabled Invalid input: expected boolean, received string'],
    [{ dedupWindowMs: -1 }, 'dedupWindowMs Too small: expected number to be >=0'],
    [{ concurrency: 0 }, 'concurrency Too small: expected number to be >=1'],
    [{ paused: 1 }, 'paused Invalid input: expected boolean, received number'],
    [{ displayName: '' }, 'displayName Too small: expected string to have >=1 characters'],
  ])('%j', (extra, detail) => {
    expect(define(extra)).toThrow(new TypeError(`Invalid job type definition "a": ${detail}`));
  });

  it('accepts every setting at its bounds', () => {
    const t = defineJobType({
      name: 'a', input, priority: 'low', timeoutMs: 2_147_483_647, maxRetries: 1000, enabled: false, requiresPermission: null,
      dedupWindowMs: 0, concurrency: 1_000_000, concurrencyPerOrg: 1, paused: true, rateLimit: { max: 1, perMs: 86_400_000 },
      async handler() { return null; },
    });
    expect(t.rateLimit).toEqual({ max: 1, perMs: 86_400_000, scope: 'type' });
  });
});

describe('updateJobType and submit options: ValidationError with every path', () => {
  let engine: JobEngine | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });
  const start = async () => {
    ({ engine } = await createTestEngine({ jobTypes: [defineJobType({ name: 'a', input, async handler() { return null; } })], worker: false }));
    return engine!.system;
  };

  it.each([
    [{ maxRetries: -1 }, 'maxRetries: Too small: expected number to be >=0'],
    [{ color: 'red' }, 'color: unknown option'],
    [{ priority: 'urgent', timeoutMs: 0 }, `priority: ${PRIO}; timeoutMs: Too small: expected number to be >0`],
    [{ rateLimit: { max: 1, perMs: 1, x: 1 } }, 'rateLimit.x: unknown option'],
    [{}, 'no field to change'],
    [
      { enabled: 'no', requiresPermission: '', dedupWindowMs: 1.5 },
      'enabled: Invalid input: expected boolean, received string; requiresPermission: Too small: expected string to have >=1 characters; dedupWindowMs: Invalid input: expected int, received number',
    ],
  ])('updateJobType %j', async (changes, detail) => {
    const s = await start();
    await expectValidation(s.updateJobType('a', changes as never), `Invalid job type settings: ${detail}`);
  });

  it('updateJobType accepts the same bounds as defineJobType', async () => {
    const s = await start();
    const info = await s.updateJobType('a', { priority: 'critical', timeoutMs: 2_147_483_647, maxRetries: 0, rateLimit: { max: 5, perMs: 1000, scope: 'org' } });
    expect(info).toMatchObject({ priority: 'critical', timeoutMs: 2_147_483_647, maxRetries: 0, rateLimit: { max: 5, perMs: 1000, scope: 'org' } });
  });

  it.each([
    [{ priority: 'urgent' }, `options.priority: ${PRIO}`],
    [{ timeoutMs: 0, maxRetries: 1001 }, 'options.timeoutMs: Too small: expected number to be >0; options.maxRetries: Too big: expected number to be <=1000'],
    [{ prio: 1 }, 'options.prio: unknown option'],
  ])('submit %j', async (options, detail) => {
    const s = await start();
    await expectValidation(s.submit('a', {}, options as never), `Invalid submit options: ${detail}`);
  });
});
