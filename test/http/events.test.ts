/**
 * `GET /events` on both stores: order, scoping (org A never sees org B's events), the jobId
 * filter, resume with Last-Event-ID (no gap, no duplicate), heartbeat comments, dropping a
 * stalled client with bounded memory, and no timer left behind (client gone, engine stopped).
 */
import { describe, expect, it } from 'vitest';
import { JobEngine, type JobEventRecord } from '../../src/index.js';
import { coalesceProgress } from '../../src/http/event-stream.js';
import { createJobsHandler } from '../../src/http/index.js';
import { drain, FakeClock } from '../../src/testing/index.js';
import { add } from '../helpers/fixtures.js';
import { storeKinds } from '../helpers/stores.js';
import { ACTORS, report, setupHttp, SseReader, turns, type SseFrame } from './http-helpers.js';

/**
 * Until the job has both completed and reported its last progress. (A store may order a
 * progress event after a status event of the same instant: the contract orders only a job's
 * status events among themselves.)
 */
const finished = (jobId: string, progress: number) => {
  let done = false;
  let last = false;
  return (f: SseFrame) => {
    if (f.data.jobId === jobId && f.data.to === 'completed') done = true;
    if (f.data.jobId === jobId && f.event === 'job:progress' && f.data.progress === progress) last = true;
    return done && last;
  };
};

const summary = (f: SseFrame) => (f.event === 'job:status' ? `${f.data.jobId.slice(-4)}:${f.data.from}→${f.data.to}` : `${f.data.jobId.slice(-4)}:${f.data.progress}%`);

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`GET /events (${kind.name})${kind.skip}`, () => {
    async function open(call: Awaited<ReturnType<typeof setupHttp>>['call'], token: string, opts: { query?: string; lastEventId?: string; signal?: AbortSignal } = {}) {
      const r = await call('GET', `/events${opts.query ?? ''}`, { token, signal: opts.signal, headers: opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {} });
      expect(r.status).toBe(200);
      const sse = new SseReader(r.res);
      const hello = (await sse.next())!;
      return { sse, hello, res: r.res };
    }

    it('streams each job’s events in transition order with ids, data as JSON and SSE headers', async () => {
      const { call, engine } = await setupHttp(kind);
      const { sse, hello, res } = await open(call, 'alice');
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(res.headers.get('cache-control')).toContain('no-cache');
      expect(res.headers.get('x-accel-buffering')).toBe('no');
      expect(hello.comments).toContain('connected');
      expect(hello.retry).toBe(2000);
      expect(hello.id).toBeTruthy();
      const job = (await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 2, b: 3 } } })).json;
      await drain(engine);
      const frames = await sse.until(finished(job.id, 50));
      expect(frames.filter((f) => f.event === 'job:status').map((f) => f.data.to)).toEqual(['queued', 'running', 'completed']);
      expect(frames.filter((f) => f.event === 'job:progress').map((f) => f.data.progress)).toEqual([50]);
      expect(frames.findIndex((f) => f.event === 'job:progress')).toBeGreaterThan(1); // after running
      expect(frames[0]!.data).toMatchObject({ jobId: job.id, type: 'add', orgId: 'acme', ownerId: 'alice', from: null });
      expect(frames[0]!.data.at).toMatch(/Z$/);
      expect(frames.find((f) => f.event === 'job:progress')!.data).toMatchObject({ jobId: job.id, progress: 50, message: 'halfway' });
      expect(new Set(frames.map((f) => f.id)).size).toBe(4);
      await sse.cancel();
    });

    it('scoping: each org sees only its own events, the admin sees all, over one shared store', async () => {
      const { call, engine } = await setupHttp(kind, {}, { worker: false });
      const alice = await open(call, 'alice');
      const bob = await open(call, 'bob');
      const admin = await open(call, 'admin');
      const b1 = (await call('POST', '/jobs', { token: 'bob', body: { type: 'add', input: { a: 1, b: 0 } } })).json;
      const a1 = (await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 2, b: 0 } } })).json;
      const b2 = (await call('POST', '/jobs', { token: 'bob', body: { type: 'add', input: { a: 3, b: 0 } } })).json;
      await engine.system.cancel(b1.id);
      const a2 = (await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 4, b: 0 } } })).json;
      const aliceSaw = await alice.sse.until((f) => f.data.jobId === a2.id);
      expect(aliceSaw.map((f) => f.data.jobId)).toEqual([a1.id, a2.id]);
      expect(aliceSaw.every((f) => f.data.orgId === 'acme')).toBe(true);
      const bobSaw = await bob.sse.until((f) => f.data.jobId === b1.id && f.data.to === 'canceled');
      expect(bobSaw.map((f) => f.data.jobId)).toEqual([b1.id, b2.id, b1.id]);
      const adminSaw = await admin.sse.until((f) => f.data.jobId === a2.id);
      expect(adminSaw.map((f) => f.data.jobId)).toEqual([b1.id, a1.id, b2.id, b1.id, a2.id]);
      // Bob's own job id does not open a stream for alice: like an id that does not exist.
      const other = await call('GET', `/events?jobId=${b1.id}`, { token: 'alice' });
      expect([other.status, other.json.error.code]).toEqual([404, 'NOT_FOUND']);
      const none = await call('GET', '/events?jobId=nope', { token: 'alice' });
      expect(none.status).toBe(404);
      await Promise.all([alice.sse.cancel(), bob.sse.cancel(), admin.sse.cancel()]);
      void engine;
    });

    it('?jobId= streams only that job', async () => {
      const { call, engine } = await setupHttp(kind);
      const a = (await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 1 }, options: { delayMs: 60_000 } } })).json;
      const { sse } = await open(call, 'alice', { query: `?jobId=${a.id}` });
      await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 9, b: 9 } } });
      await drain(engine);
      await engine.system.cancel(a.id);
      const frames = await sse.until((f) => f.data.to === 'canceled');
      expect(frames.map(summary)).toEqual([`${a.id.slice(-4)}:scheduled→canceled`]);
      expect((await call('GET', '/events?jobId=', { token: 'alice' })).status).toBe(400);
      expect((await call('GET', '/events?since=x', { token: 'alice' })).status).toBe(400);
      await sse.cancel();
    });

    it('resume with Last-Event-ID: every missed status event and the last progress of each job, in order, no duplicate', async () => {
      const { call, engine } = await setupHttp(kind);
      const watcher = await open(call, 'alice'); // never disconnects: the reference sequence
      const ac = new AbortController();
      const first = await open(call, 'alice', { signal: ac.signal });
      const j1 = (await call('POST', '/jobs', { token: 'alice', body: { type: 'report', input: { name: 'one' } } })).json;
      await drain(engine);
      const before = await first.sse.until((f) => f.data.jobId === j1.id && f.data.to === 'running');
      const lastId = before.at(-1)!.id!;
      ac.abort(); // the browser goes away mid-job
      // Missed meanwhile: the rest of j1, a whole job j2, another org's job.
      const j2 = (await call('POST', '/jobs', { token: 'alice', body: { type: 'report', input: { name: 'two' } } })).json;
      await call('POST', '/jobs', { token: 'bob', body: { type: 'report', input: { name: 'bobs' } } });
      await drain(engine);
      const reference = await watcher.sse.until(finished(j2.id, 60));
      const resumed = await open(call, 'alice', { lastEventId: lastId });
      const after = await resumed.sse.until(finished(j2.id, 60));

      const statuses = (fs: SseFrame[]) => fs.filter((f) => f.event === 'job:status').map(summary);
      const lastProgress = (fs: SseFrame[]) => Object.fromEntries(fs.filter((f) => f.event === 'job:progress').map((f) => [f.data.jobId, f.data.progress]));
      expect(statuses([...before, ...after])).toEqual(statuses(reference));
      expect(lastProgress([...before, ...after])).toEqual(lastProgress(reference));
      expect(lastProgress(after)).toEqual({ [j1.id]: 60, [j2.id]: 60 });
      // No duplicates: nothing of the resumed stream was seen before it, nor twice in it.
      // (Ids are positions in the store's log, opaque; two streams may label one event differently.)
      const key = (f: SseFrame) => `${summary(f)}@${f.data.at}`;
      const seen = new Set(before.map(key));
      expect(after.filter((f) => seen.has(key(f)))).toEqual([]);
      expect(new Set(after.map(key)).size).toBe(after.length);
      expect(after.every((f) => f.data.orgId === 'acme')).toBe(true);
      await Promise.all([watcher.sse.cancel(), resumed.sse.cancel()]);
    });

    it('400 VALIDATION for a malformed Last-Event-ID', async () => {
      const { call } = await setupHttp(kind, {}, { worker: false });
      const r = await call('GET', '/events', { token: 'alice', headers: { 'last-event-id': 'not-a-cursor!' } });
      expect([r.status, r.json.error.code]).toEqual([400, 'VALIDATION']);
    });

    it('a heartbeat comment every heartbeatMs, carrying the position past events the actor may not see', async () => {
      const { call, clock } = await setupHttp(kind, { events: { heartbeatMs: 5_000 } }, { worker: false });
      const { sse, hello } = await open(call, 'alice');
      await clock.advance(5_000);
      const beat = (await sse.next())!;
      expect(beat.comments).toEqual(['heartbeat']);
      expect(beat.id).toBeUndefined(); // nothing happened: the position is unchanged
      await call('POST', '/jobs', { token: 'bob', body: { type: 'add', input: { a: 1, b: 1 } } });
      // Bob's event moves alice's position without an event she may see.
      let moved: SseFrame | null = null;
      for (let i = 0; i < 50 && !moved?.id; i++) {
        await clock.advance(5_000);
        moved = await sse.next();
        expect(moved!.comments).toEqual(['heartbeat']);
        expect(moved!.event).toBeUndefined();
      }
      expect(moved!.id).toBeTruthy();
      expect(moved!.id).not.toBe(hello.id);
      await sse.cancel();
    });

    it('by default a heartbeat comes within the contract’s 15 s', async () => {
      const { call, clock } = await setupHttp(kind, {}, { worker: false });
      const { sse } = await open(call, 'alice');
      await clock.advance(15_000);
      expect((await sse.next())!.comments).toEqual(['heartbeat']);
      await sse.cancel();
    });

    it('leaves no timer behind when the client goes away (abort or cancel) or the engine stops', async () => {
      const { call, clock, engine } = await setupHttp(kind, { events: { heartbeatMs: 1_000 } }, { worker: false });
      const base = clock.pendingTimers;
      const ac = new AbortController();
      const a = await open(call, 'alice', { signal: ac.signal });
      const b = await open(call, 'bob');
      const c = await open(call, 'admin');
      expect(clock.pendingTimers).toBe(base + 3);
      // HEAD opens no stream (nobody would ever read or cancel it).
      const head = await call('HEAD', '/events', { token: 'alice' });
      expect(head.status).toBe(200);
      expect(clock.pendingTimers).toBe(base + 3);
      ac.abort();
      expect(clock.pendingTimers).toBe(base + 2);
      expect(await a.sse.next()).toBeNull();
      await b.sse.cancel();
      expect(clock.pendingTimers).toBe(base + 1);
      await engine.stop({ graceMs: 0 });
      // The stream ends cleanly (the browser will reconnect elsewhere) and nothing is pending.
      let f: SseFrame | null;
      do f = await c.sse.next();
      while (f !== null);
      expect(clock.pendingTimers).toBe(0);
    });

    it('backpressure: a stalled client stops being fed, is dropped after two full heartbeats, and resumes without gap', async () => {
      const { engine, clock } = await setupHttp(kind, {}, { worker: false });
      // The actor's client, instrumented: count the stream's reads of the event log.
      let reads = 0;
      let sawItems!: () => void;
      const filled = new Promise<void>((r) => (sawItems = r));
      const client = engine.as(ACTORS.alice!);
      const counted = new Proxy(client, {
        get(target, prop) {
          if (prop === 'readEvents') {
            return async (o: Parameters<typeof client.readEvents>[0]) => {
              reads++;
              const page = await target.readEvents(o);
              if (page.items.length > 0) sawItems();
              return page;
            };
          }
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const handler = createJobsHandler(engine, { authenticate: () => counted, dashboard: false, events: { heartbeatMs: 1_000, maxBufferedBytes: 1024 } });
      const res = await handler(new Request('http://test.local/events'));
      const sse = new SseReader(res);
      const hello = (await sse.next())!;
      // 40 events of ~300 bytes in one commit: far more than the 1 KiB buffer.
      const first = await client.submitMany(Array.from({ length: 40 }, (_, i) => ({ type: 'add', input: { a: i, b: 0 } })));
      await filled;
      await turns(3);
      const readsWhenFull = reads;
      await clock.advance(1_000); // full at a heartbeat, first time: noted
      const more = await client.submitMany(Array.from({ length: 10 }, (_, i) => ({ type: 'add', input: { a: 100 + i, b: 0 } })));
      await turns(10);
      // New events wake it, but a full stream reads nothing more: they wait in the store.
      expect(reads).toBe(readsWhenFull);
      await clock.advance(1_000); // still full, nothing drained: dropped
      await expect(sse.next()).rejects.toThrow(/dropped/);
      // It resumes from the last id it had, and gets everything, once, in order.
      const resumed = new SseReader(await handler(new Request('http://test.local/events', { headers: { 'last-event-id': hello.id! } })));
      const ids = [...first, ...more].map((j) => j.id);
      const frames = await resumed.until((f) => f.data.jobId === ids.at(-1));
      expect(frames.map((f) => f.data.jobId)).toEqual(ids);
      await resumed.cancel();
    });

    it('a web engine (worker: false) streams progress of jobs another engine on the store runs', async () => {
      const { call, clock } = await setupHttp(kind, {}, { worker: false });
      const worker = new JobEngine({ jobTypes: [add, report], storage: kind.open(), clock: new FakeClock(clock.now()), pollIntervalMs: 1000 });
      await worker.start();
      try {
        const { sse } = await open(call, 'alice');
        const job = (await call('POST', '/jobs', { token: 'alice', body: { type: 'report', input: { name: 'remote' } } })).json;
        await drain(worker);
        await clock.advance(1000); // the web engine's poll reads the other process's events
        const frames = await sse.until(finished(job.id, 60));
        expect(frames.filter((f) => f.event === 'job:status').map((f) => f.data.to)).toEqual(['queued', 'running', 'completed']);
        await sse.cancel();
      } finally {
        await worker.stop({ graceMs: 0 });
      }
    });
  });
}

describe('coalesceProgress', () => {
  const at = new Date(0);
  const p = (jobId: string, progress: number, cursor: string): JobEventRecord => ({ name: 'job:progress', cursor, event: { jobId, type: 't', orgId: 'o', ownerId: 'u', progress, message: null, at } });
  const s = (jobId: string, to: 'running' | 'retrying', cursor: string): JobEventRecord => ({ name: 'job:status', cursor, event: { jobId, type: 't', orgId: 'o', ownerId: 'u', from: null, to, at, attempt: 1, error: null } });

  it('keeps the last progress of each job per attempt, and every status event, in order', () => {
    const out = coalesceProgress([p('a', 10, '1'), p('b', 5, '2'), p('a', 20, '3'), s('a', 'retrying', '4'), s('a', 'running', '5'), p('a', 1, '6'), p('a', 2, '7')]);
    expect(out.map((r) => r.cursor)).toEqual(['2', '3', '4', '5', '7']);
  });
});
