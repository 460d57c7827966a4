/**
 * Review defect 5: input, output and checkpoint are stored as JSON, so a value JSON cannot
 * carry unchanged (a Date, a Set, a Map, NaN, a class instance) used to reach the handler
 * changed (a string, `{}`, null) while `submit()` and `runJob` showed the real value. The
 * rule now: such a value is a ValidationError naming its path, at submit, in `runJob`, on
 * `saveCheckpoint`, and for a handler's output; every value that passes arrives unchanged.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, ValidationError, type AnyJobType } from '../../src/index.js';
import { drain, FakeClock, runJob } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';

const withDate = defineJobType({ name: 'with-date', input: z.object({ when: z.date() }), dedupWindowMs: 0, async handler() {} });
const withSet = defineJobType({ name: 'with-set', input: z.object({ tags: z.set(z.string()) }), dedupWindowMs: 0, async handler() {} });
const anyInput = defineJobType({ name: 'any-input', input: z.any(), dedupWindowMs: 0, async handler() {} });

let seen: unknown;
const echo = defineJobType({
  name: 'echo',
  input: z.object({ a: z.array(z.union([z.number(), z.string(), z.null(), z.boolean()])), nested: z.object({ s: z.string() }) }),
  dedupWindowMs: 0,
  async handler(input) {
    seen = input;
    return input;
  },
});
const returnsDate = defineJobType({ name: 'returns-date', input: z.object({}), maxRetries: 0, dedupWindowMs: 0, async handler() {
  return { at: new Date(0) };
} });
let checkpointError: unknown;
const savesMap = defineJobType({ name: 'saves-map', input: z.object({}), dedupWindowMs: 0, async handler(_input, ctx) {
  try {
    await ctx.saveCheckpoint(new Map([['k', 1]]));
  } catch (err) {
    checkpointError = err;
  }
} });

function issuePaths(err: unknown): string[] {
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).issues.map((i) => i.path.join('.'));
}

describe('values JSON cannot carry unchanged are rejected, not silently changed', () => {
  it('runJob rejects a Date input like submit does', async () => {
    const err = await runJob(withDate, { when: new Date() }).catch((e: unknown) => e);
    expect(issuePaths(err)).toEqual(['input.when']);
    expect((err as Error).message).toMatch(/Date/);
  });

  it('runJob hands the handler the same value a stored job would have', async () => {
    const input = { a: [1, 'x', null, true], nested: { s: 'é' } };
    const r = await runJob(echo, input);
    expect(r.status).toBe('completed');
    expect(seen).toEqual(input);
  });
});

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`JSON-faithful payloads (${kind.name})${kind.skip}`, () => {
    async function start(jobTypes: AnyJobType[]) {
      const engine = new JobEngine({ jobTypes, storage: kind.open(), clock: new FakeClock(), pollIntervalMs: 60_000 });
      await engine.start();
      onTestFinished(() => engine.stop({ graceMs: 0 }));
      return engine;
    }

    it('submit rejects a Date, a Set, NaN, a Map and a class instance with the path named; nothing is written', async () => {
      kind.fresh();
      const engine = await start([withDate, withSet, anyInput]);
      const cases: [string, unknown, string][] = [
        ['with-date', { when: new Date() }, 'input.when'],
        ['with-set', { tags: new Set(['a']) }, 'input.tags'],
        ['any-input', { n: Number.NaN }, 'input.n'],
        ['any-input', { list: [1, new Map()] }, 'input.list.1'],
        ['any-input', { u: new URL('https://example.com') }, 'input.u'],
        ['any-input', { big: 1n }, 'input.big'],
      ];
      for (const [type, input, path] of cases) {
        const err = await engine.system.submit(type as 'any-input', input).catch((e: unknown) => e);
        expect(issuePaths(err), `${type} ${path}`).toEqual([path]);
      }
      const many = await engine.system.submitMany([
        { type: 'any-input', input: { fine: 1 } },
        { type: 'any-input', input: { when: new Date() } },
      ]).catch((e: unknown) => e);
      expect(issuePaths(many)).toEqual(['1.input.when']);
      expect((await engine.system.list({})).items).toEqual([]);
    });

    it('what the handler, get() and submit() see is the same value', async () => {
      kind.fresh();
      const engine = await start([echo]);
      const input = { a: [1, 'x', null, true, -0.5], nested: { s: 'ü\u2028' } };
      const submitted = await engine.system.submit('echo', input);
      await drain(engine);
      const stored = await engine.system.get(submitted.id);
      expect(submitted.input).toEqual(input);
      expect(stored.input).toEqual(input);
      expect(seen).toEqual(input);
      expect(stored.output).toEqual(input);
    });

    it('an output JSON cannot carry fails the attempt with a ValidationError naming output', async () => {
      kind.fresh();
      const engine = await start([returnsDate]);
      const job = await engine.system.submit('returns-date', {});
      await drain(engine);
      const done = await engine.system.get(job.id);
      expect(done.status).toBe('dead_letter');
      expect(done.error?.message).toMatch(/output\.at.*Date/);
    });

    it('saveCheckpoint rejects a Map with a ValidationError naming checkpoint', async () => {
      kind.fresh();
      checkpointError = undefined;
      const engine = await start([savesMap]);
      const job = await engine.system.submit('saves-map', {});
      await drain(engine);
      expect(issuePaths(checkpointError)).toEqual(['checkpoint']);
      expect((await engine.system.get(job.id)).checkpoint).toBeNull();
    });
  });
}
