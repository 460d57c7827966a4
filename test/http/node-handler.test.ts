/**
 * `toNodeHandler` on a real `node:http` server on an ephemeral port: JSON in and out, an
 * SSE stream over a socket, and a client that disconnects releasing its stream's timer.
 */
import { EventEmitter, once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { toNodeHandler } from '../../src/http/index.js';
import { drain } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { setupHttp, SseReader, turns } from './http-helpers.js';

const sqlite = storeKinds()[0]!;

describe('toNodeHandler', () => {
  it('serves the handler on node:http: JSON routes, errors, and SSE that ends its timer when the client leaves', async () => {
    const { handler, engine, clock } = await setupHttp(sqlite, { events: { heartbeatMs: 1_000 } });
    const server = http.createServer(toNodeHandler(handler));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => {
      // fetch keeps its sockets alive; the test does not wait for them to time out.
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const auth = { authorization: 'Bearer alice' };

    const created = await fetch(`${url}/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'add', input: { a: 20, b: 22 } }) });
    expect(created.status).toBe(201);
    const job = (await created.json()) as { id: string };
    expect((await fetch(`${url}/jobs/${job.id}`)).status).toBe(401);
    const form = await fetch(`${url}/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'type=add' });
    expect(form.status).toBe(415);
    const tooBig = await fetch(`${url}/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'add', input: { pad: 'x'.repeat(2 * 1024 * 1024) } }) });
    expect(tooBig.status).toBe(413);

    const timersBefore = clock.pendingTimers;
    const ac = new AbortController();
    const res = await fetch(`${url}/events`, { headers: auth, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const sse = new SseReader(res as unknown as Response);
    expect((await sse.next())!.comments).toContain('connected');
    expect(clock.pendingTimers).toBe(timersBefore + 1);
    await drain(engine);
    const again = await fetch(`${url}/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'add', input: { a: 1, b: 1 } }) });
    const second = (await again.json()) as { id: string };
    await drain(engine);
    const frames = await sse.until((f) => f.data.jobId === second.id && f.data.to === 'completed');
    expect(frames.filter((f) => f.data.jobId === second.id && f.event === 'job:status').map((f) => f.data.to)).toEqual(['queued', 'running', 'completed']);

    ac.abort();
    // The server notices the closed socket and the stream lets go of its heartbeat.
    for (let i = 0; i < 200 && clock.pendingTimers > timersBefore; i++) await turns(5);
    expect(clock.pendingTimers).toBe(timersBefore);
  });

  it('closes the socket of a stalled event-stream client once the stream drops it, even while waiting for drain', async () => {
    const { handler, engine, clock } = await setupHttp(sqlite, { events: { heartbeatMs: 1_000, maxBufferedBytes: 1024 } }, { worker: false });
    // A response whose socket never drains: every write "fills the buffer".
    const written: Uint8Array[] = [];
    let destroyed: Error | null = null;
    const res = Object.assign(new EventEmitter(), {
      writableFinished: false,
      headersSent: false,
      writeHead: () => undefined,
      flushHeaders: () => undefined,
      write: (chunk: Uint8Array) => (written.push(chunk), false),
      end: () => undefined,
      destroy: (e: Error) => {
        destroyed = e;
      },
    });
    const req = { method: 'GET', url: '/events', headers: { host: 'x', authorization: 'Bearer alice' }, socket: {} };
    toNodeHandler(handler)(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    for (let i = 0; i < 100 && written.length === 0; i++) await turns(1);
    expect(written).toHaveLength(1); // the first frame; then it waits for a drain that never comes
    await engine.as({ userId: 'alice', orgId: 'acme' }).submitMany(Array.from({ length: 40 }, (_, i) => ({ type: 'add', input: { a: i, b: 0 } })));
    await turns(20);
    await clock.advance(1_000);
    await clock.advance(1_000);
    for (let i = 0; i < 100 && !destroyed; i++) await turns(1);
    expect(String(destroyed)).toMatch(/dropped/);
    expect(written).toHaveLength(1); // memory stayed in the bounded stream queue, not in res
  });
});
