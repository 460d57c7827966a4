/**
 * jobwing/otel in one process: span names, kinds, attributes, parentage and links, and the
 * messaging metrics, on SQLite and (with JOBWING_TEST_PG_URL) Postgres.
 */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { JobEngine } from '../../src/index.js';
import { instrumentEngine } from '../../src/otel/index.js';
import { drain, FakeClock } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { slowStarted, TRACED_TYPES } from './fixtures/traced-types.js';
import { counterSum, histogramCount, otelKit } from './otel-kit.js';

const engines: JobEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop({ graceMs: 0 })));
});

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const one = (spans: ReadableSpan[], name: string) => {
  const found = byName(spans, name);
  expect(found, `spans named ${name}`).toHaveLength(1);
  return found[0]!;
};

for (const kind of storeKinds()) {
  describe(`jobwing/otel spans and metrics on ${kind.name}${kind.skip}`, () => {
    const maybe = kind.skip ? it.skip : it;

    async function instrumentedEngine(concurrency = 4) {
      kind.fresh();
      const kit = otelKit();
      const clock = new FakeClock();
      const engine = new JobEngine({ jobTypes: TRACED_TYPES, storage: kind.open(), clock, pollIntervalMs: 1000, concurrency });
      instrumentEngine(engine, { tracerProvider: kit.tracerProvider, meterProvider: kit.meterProvider });
      engines.push(engine);
      await engine.start();
      return { engine, kit, clock };
    }

    maybe('a submit inside a request span: send (PRODUCER) → process (CONSUMER, child and link) → the handler span', async () => {
      const { engine, kit } = await instrumentedEngine();
      const alice = engine.as({ userId: 'alice', orgId: 'acme', permissions: [] });
      const job = await trace.getTracer('web').startActiveSpan('submit-scope', async (scope) => {
        const j = await alice.submit('traced', { n: 21 }, { priority: 'high' });
        scope.end();
        return j;
      });
      await drain(engine);
      expect((await alice.get(job.id)).output).toEqual({ double: 42 });

      const spans = kit.spans();
      const scope = one(spans, 'submit-scope');
      const send = one(spans, 'send traced');
      expect(send.kind).toBe(SpanKind.PRODUCER);
      expect(send.parentSpanContext?.spanId).toBe(scope.spanContext().spanId); // the request's trace
      expect(send.attributes).toMatchObject({
        'messaging.system': 'jobwing',
        'messaging.destination.name': 'traced',
        'messaging.operation.name': 'send',
        'messaging.message.id': job.id,
        'jobwing.org_id': 'acme',
        'jobwing.priority': 'high',
      });
      expect(send.attributes['error.type']).toBeUndefined();

      const process = one(spans, 'process traced');
      expect(process.kind).toBe(SpanKind.CONSUMER);
      expect(process.attributes).toMatchObject({
        'messaging.system': 'jobwing',
        'messaging.destination.name': 'traced',
        'messaging.operation.name': 'process',
        'messaging.message.id': job.id,
        'jobwing.org_id': 'acme',
        'jobwing.attempt': 1,
        'jobwing.outcome': 'completed',
      });
      expect(process.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
      expect(process.links[0]!.context.traceId).toBe(send.spanContext().traceId);
      expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(process.spanContext().traceId).toBe(scope.spanContext().traceId); // one trace, request to handler
      expect(process.status.code).not.toBe(SpanStatusCode.ERROR);

      const work = one(spans, 'handler work');
      expect(work.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
      expect(work.spanContext().traceId).toBe(process.spanContext().traceId);

      const m = await kit.metrics();
      expect(counterSum(m.get('messaging.client.sent.messages'), { 'messaging.destination.name': 'traced' })).toBe(1);
      expect(counterSum(m.get('messaging.client.consumed.messages'), { 'messaging.destination.name': 'traced', 'messaging.system': 'jobwing' })).toBe(1);
      expect(m.get('messaging.process.duration')?.unit).toBe('s');
      expect(histogramCount(m.get('messaging.process.duration'), { 'messaging.destination.name': 'traced' })).toBe(1);
      expect(m.get('jobwing.queue.wait')?.unit).toBe('s');
      expect(histogramCount(m.get('jobwing.queue.wait'), { 'messaging.destination.name': 'traced' })).toBe(1);
      // No job ids (or orgs) in metric attributes: bounded cardinality.
      for (const [, p] of m) for (const d of p.points) expect(Object.keys(d.attributes).sort()).toEqual(expect.not.arrayContaining(['messaging.message.id', 'jobwing.org_id']));
    });

    maybe('failures: error.type from the classifier, one process span per attempt, all linked to the one send span', async () => {
      const { engine, kit } = await instrumentedEngine();
      const flaky = await engine.system.submit('flaky-once', {});
      const doomed = await engine.system.submit('doomed', {});
      await drain(engine, { advanceClock: true });
      expect((await engine.system.get(flaky.id)).status).toBe('completed');
      expect((await engine.system.get(doomed.id)).status).toBe('dead_letter');

      const spans = kit.spans();
      const send = one(spans, 'send flaky-once');
      const attempts = byName(spans, 'process flaky-once').sort((a, b) => Number(a.attributes['jobwing.attempt']) - Number(b.attributes['jobwing.attempt']));
      expect(attempts.map((s) => s.attributes['jobwing.attempt'])).toEqual([1, 2]);
      expect(attempts[0]!.attributes).toMatchObject({ 'error.type': 'transient', 'jobwing.outcome': 'failed', 'jobwing.will_retry': true });
      expect(attempts[0]!.status.code).toBe(SpanStatusCode.ERROR);
      expect(attempts[0]!.events.map((e) => e.name)).toContain('exception');
      expect(attempts[1]!.attributes['error.type']).toBeUndefined();
      for (const a of attempts) expect(a.links[0]?.context.spanId).toBe(send.spanContext().spanId);

      const dead = one(spans, 'process doomed');
      expect(dead.attributes).toMatchObject({ 'error.type': 'permanent', 'jobwing.will_retry': false });
      expect(dead.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'never works' });

      const m = await kit.metrics();
      const duration = m.get('messaging.process.duration');
      expect(histogramCount(duration, { 'messaging.destination.name': 'flaky-once', 'error.type': 'transient' })).toBe(1);
      expect(histogramCount(duration, { 'messaging.destination.name': 'flaky-once' })).toBe(2);
      expect(histogramCount(duration, { 'messaging.destination.name': 'doomed', 'error.type': 'permanent' })).toBe(1);
      expect(counterSum(m.get('messaging.client.consumed.messages'), { 'messaging.destination.name': 'flaky-once' })).toBe(2);
      expect(counterSum(m.get('messaging.client.sent.messages'))).toBe(2);
    });

    maybe('submitMany: one send span per job; a refused duplicate: a send span with error.type', async () => {
      const { engine, kit } = await instrumentedEngine();
      const jobs = await engine.system.submitMany([
        { type: 'traced', input: { n: 1 } },
        { type: 'traced', input: { n: 2 } },
      ]);
      await expect(engine.system.submit('traced', { n: 1 })).rejects.toMatchObject({ code: 'DUPLICATE' });
      await drain(engine);
      const sends = byName(kit.spans(), 'send traced');
      expect(sends).toHaveLength(3);
      const dup = sends.find((s) => s.attributes['error.type'] === 'duplicate');
      expect(dup?.status.code).toBe(SpanStatusCode.ERROR);
      const processes = byName(kit.spans(), 'process traced');
      expect(processes.map((p) => p.attributes['messaging.message.id']).sort()).toEqual(jobs.map((j) => j.id).sort());
      for (const p of processes) {
        const send = sends.find((s) => s.attributes['messaging.message.id'] === p.attributes['messaging.message.id']);
        expect(p.links[0]?.context.spanId).toBe(send?.spanContext().spanId);
      }
      const m = await kit.metrics();
      expect(counterSum(m.get('messaging.client.sent.messages'), { 'error.type': 'duplicate' })).toBe(1);
      expect(counterSum(m.get('messaging.client.sent.messages'))).toBe(3);
    });

    maybe('a timeout is error.type timeout; a cancel ends the span as canceled, not as an error', async () => {
      const { engine, kit, clock } = await instrumentedEngine();
      let started = new Promise<void>((r) => slowStarted.push(r));
      const timedOut = await engine.system.submit('slow', {});
      await started;
      await clock.advance(1000);
      await drain(engine);
      expect((await engine.system.get(timedOut.id)).status).toBe('dead_letter');
      started = new Promise<void>((r) => slowStarted.push(r));
      const canceled = await engine.system.submit('slow', {});
      await started;
      await engine.system.cancel(canceled.id);
      await drain(engine);
      const spans = byName(kit.spans(), 'process slow');
      const t = spans.find((s) => s.attributes['messaging.message.id'] === timedOut.id)!;
      expect(t.attributes).toMatchObject({ 'error.type': 'timeout', 'jobwing.outcome': 'failed' });
      expect(t.status.code).toBe(SpanStatusCode.ERROR);
      const c = spans.find((s) => s.attributes['messaging.message.id'] === canceled.id)!;
      expect(c.attributes['jobwing.outcome']).toBe('canceled');
      expect(c.attributes['error.type']).toBeUndefined();
      expect(c.status.code).not.toBe(SpanStatusCode.ERROR);
    });

    maybe('jobs claimed by a settle (settle-and-claim, concurrency 1) carry their own send context too', async () => {
      const { engine, kit } = await instrumentedEngine(1);
      const jobs = [];
      for (let n = 0; n < 4; n++) jobs.push(await engine.system.submit('traced', { n }));
      await drain(engine);
      const spans = kit.spans();
      for (const job of jobs) {
        const send = spans.find((s) => s.name === 'send traced' && s.attributes['messaging.message.id'] === job.id);
        const process = spans.find((s) => s.name === 'process traced' && s.attributes['messaging.message.id'] === job.id);
        expect(process?.links.map((l) => l.context.spanId)).toEqual([send!.spanContext().spanId]);
        expect(process?.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
      }
    });

    maybe('a job submitted by an engine without jobwing/otel: a process span with no link, no parent', async () => {
      kind.fresh();
      const plain = new JobEngine({ jobTypes: TRACED_TYPES, storage: kind.open(), worker: false });
      engines.push(plain);
      await plain.start();
      const job = await plain.system.submit('traced', { n: 3 });
      const kit = otelKit();
      const worker = new JobEngine({ jobTypes: TRACED_TYPES, storage: kind.open(), clock: new FakeClock() });
      instrumentEngine(worker, { tracerProvider: kit.tracerProvider, meterProvider: kit.meterProvider });
      engines.push(worker);
      await worker.start();
      await drain(worker);
      const process = one(kit.spans(), 'process traced');
      expect(process.attributes['messaging.message.id']).toBe(job.id);
      expect(process.links).toEqual([]);
      expect(process.parentSpanContext).toBeUndefined();
    });
  });
}

describe('instrumentEngine: bad input', () => {
  it('names what is wrong', async () => {
    const engine = new JobEngine({ jobTypes: TRACED_TYPES, storage: (await import('../../src/index.js')).sqliteStorage({ path: ':memory:' }) });
    expect(() => instrumentEngine({} as JobEngine)).toThrow(/must be a JobEngine/);
    expect(() => instrumentEngine(null as unknown as JobEngine)).toThrow(/must be a JobEngine/);
    expect(() => instrumentEngine(engine, { tracerProvider: {} as never })).toThrow(/tracerProvider.*TracerProvider/);
    expect(() => instrumentEngine(engine, { meterProvider: 42 as never })).toThrow(/meterProvider.*MeterProvider/);
    instrumentEngine(engine); // the global (no-op unless registered) providers
    expect(() => instrumentEngine(engine)).toThrow(/already instrumented/);
    await engine.stop();
  });
});
