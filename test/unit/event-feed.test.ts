/**
 * EventFeed (src/event-feed.ts): tails the store's events from where it started, emits them in
 * commit order as job:status / job:progress, folds pokes into one read, skips to the end while
 * nobody listens, reports read errors as 'events', and stops cleanly. Runs on in-memory SQLite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventFeed } from '../../src/event-feed.js';
import { SafeEmitter } from '../../src/events.js';
import type { StorageAdapter } from '../../src/storage/adapter.js';
import { sqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { newJob, T0 } from '../../src/testing/conformance/index.js';
import type { JobProgressEvent, JobStatusEvent } from '../../src/types.js';

const stores: StorageAdapter[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function setup(wrap: (s: StorageAdapter) => StorageAdapter = (s) => s) {
  const inner = sqliteStorage({ path: ':memory:' });
  stores.push(inner);
  await inner.migrate();
  const storage = wrap(inner);
  const emitter = new SafeEmitter();
  const errors: [unknown, string][] = [];
  const feed = new EventFeed(storage, emitter, (e, s) => errors.push([e, s]));
  const seen: string[] = [];
  const listen = () => {
    emitter.on('job:status', (e: JobStatusEvent) => seen.push(`${e.from}>${e.to}`));
    emitter.on('job:progress', (e: JobProgressEvent) => seen.push(`p${e.progress}`));
  };
  const insert = async (n = 1, now = T0) => {
    const jobs = Array.from({ length: n }, () => newJob());
    await inner.insertJobs({ jobs, actorId: 'a', now, atomic: true });
    return jobs;
  };
  return { inner, storage, emitter, feed, errors, seen, listen, insert };
}

describe('EventFeed', () => {
  it('starts at the end of the tail, then delivers status and progress events in commit order', async () => {
    const { inner, feed, seen, listen, insert } = await setup();
    listen();
    await insert(); // before start: not replayed
    await feed.start();
    const [j] = await insert(1, T0 + 1);
    const [c] = await inner.claimJobs({ workerId: 'w', types: ['email'], limit: 1, now: T0 + 2, leaseMs: 1000 });
    await inner.recordProgress({ jobId: c!.job.id, attempt: c!.attempt, progress: 40, message: null, now: T0 + 3 });
    await feed.flush();
    expect(c!.job.id).not.toBe(j!.id); // the older job is claimed: its claim is after start, so it is heard
    expect(seen).toEqual(['null>queued', 'queued>running', 'p40']);
    await feed.stop();
  });

  it('folds pokes made during a read into one more read, and delivers each event once', async () => {
    let reads = 0;
    const { feed, seen, listen, insert } = await setup((s) => new Proxy(s, { get: (t, k) => (k === 'readEvents' ? (reads++, t.readEvents.bind(t)) : Reflect.get(t, k)) }));
    listen();
    await feed.start();
    reads = 0;
    await insert(3);
    for (let i = 0; i < 10; i++) feed.poke();
    await feed.flush();
    expect(seen).toEqual(['null>queued', 'null>queued', 'null>queued']);
    expect(reads).toBeLessThanOrEqual(3);
    await feed.stop();
  });

  it('with no job listeners, a poke does nothing and a poll skips to the end (a later listener hears only newer events)', async () => {
    const { feed, seen, listen, insert } = await setup();
    await feed.start();
    await insert(2);
    feed.poke();
    await feed.flush(); // polls: nobody listens, the cursor moves to the end
    listen();
    await insert(1);
    await feed.flush();
    expect(seen).toEqual(['null>queued']);
    await feed.stop();
  });

  it('pages through more than one page of events without losing any', async () => {
    const { feed, seen, listen, insert } = await setup();
    listen();
    await feed.start();
    await insert(400);
    await insert(400);
    await feed.flush();
    expect(seen).toHaveLength(800);
    await feed.stop();
  });

  it('reports a failed read as an "events" error and keeps going on the next read', async () => {
    let fail = false;
    const { feed, errors, seen, listen, insert } = await setup(
      (s) =>
        new Proxy(s, {
          get: (t, k) =>
            k === 'readEvents'
              ? (req: Parameters<StorageAdapter['readEvents']>[0]) => (fail && req.after !== null ? Promise.reject(new Error('db down')) : t.readEvents(req))
              : Reflect.get(t, k),
        }),
    );
    listen();
    await feed.start();
    await insert();
    fail = true;
    await feed.flush();
    expect(errors.map(([e, s]) => [(e as Error).message, s])).toEqual([['db down', 'events']]);
    fail = false;
    await feed.flush();
    expect(seen).toEqual(['null>queued']);
    await feed.stop();
  });

  it('after stop(), pokes and polls read nothing', async () => {
    const { feed, seen, listen, insert } = await setup();
    listen();
    await feed.start();
    await feed.stop();
    await insert();
    feed.poke();
    feed.poll();
    await feed.flush();
    await new Promise<void>((r) => setImmediate(r));
    expect(seen).toEqual([]);
  });
});
