/**
 * Every JSON route of jobwing/http: success statuses and shapes, each error code and its
 * status, the order of the guards (404/405 → 415 → 401 → 413 → 400), body limits, and
 * the handler's options. Store-independent (scoping on both stores: scoping.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createJobsHandler } from '../../src/http/index.js';
import { drain } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { bearer, setupHttp } from './http-helpers.js';

const sqlite = storeKinds()[0]!;

describe('jobwing/http routes', () => {
  describe('POST /jobs', () => {
    it('201 with the job as JSON: the actor’s org and user, Dates as ISO strings', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      const r = await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 2 }, options: { priority: 'high' } } });
      expect(r.status).toBe(201);
      expect(r.res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.json).toMatchObject({ type: 'add', orgId: 'acme', ownerId: 'alice', status: 'queued', priority: 'high', input: { a: 1, b: 2 } });
      expect(r.json.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('runAt as ISO schedules the job', async () => {
      const { call, clock } = await setupHttp(sqlite, {}, { worker: false });
      const runAt = new Date(clock.now() + 60_000).toISOString();
      const r = await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 2 }, options: { runAt } } });
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ status: 'scheduled', runAt });
    });

    it('400 VALIDATION naming the path: a bad input, a bad option, an unknown field, a missing type, a non-ISO runAt', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      const bad = async (body: unknown, path: (string | number)[]) => {
        const r = await call('POST', '/jobs', { token: 'alice', body });
        expect(r.status).toBe(400);
        expect(r.json.error.code).toBe('VALIDATION');
        expect(r.json.error.issues.map((i: { path: unknown[] }) => i.path)).toContainEqual(path);
        return r.json.error.message as string;
      };
      expect(await bad({ type: 'add', input: { a: 'x', b: 2 } }, ['input', 'a'])).toMatch(/input/);
      await bad({ type: 'add', input: { a: 1, b: 2 }, options: { priority: 'urgent' } }, ['options', 'priority']);
      await bad({ type: 'add', input: { a: 1, b: 2 }, extra: true }, ['extra']);
      await bad({ input: {} }, ['type']);
      await bad({ type: 'add', input: { a: 1, b: 2 }, options: { runAt: 'tomorrow' } }, ['options', 'runAt']);
    });

    it('400 for malformed JSON and for an empty body', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      const r = await call('POST', '/jobs', { token: 'alice', body: '{"type": "add",' });
      expect(r.status).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'VALIDATION' });
      expect(r.json.error.message).toMatch(/Malformed JSON/);
      const empty = await call('POST', '/jobs', { token: 'alice', body: '' , headers: { 'content-type': 'application/json' } });
      expect(empty.status).toBe(400);
      expect(empty.json.error.code).toBe('VALIDATION');
    });

    it('400 UNKNOWN_JOB_TYPE, 403 PERMISSION_DENIED, 409 JOB_TYPE_DISABLED, 409 DUPLICATE with existingJobId', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      const unknown = await call('POST', '/jobs', { token: 'alice', body: { type: 'nope', input: {} } });
      expect([unknown.status, unknown.json.error.code]).toEqual([400, 'UNKNOWN_JOB_TYPE']);
      const denied = await call('POST', '/jobs', { token: 'carol', body: { type: 'report', input: { name: 'q1' } } });
      expect([denied.status, denied.json.error.code]).toEqual([403, 'PERMISSION_DENIED']);
      const first = await call('POST', '/jobs', { token: 'alice', body: { type: 'unique', input: { key: 'k' } } });
      const dup = await call('POST', '/jobs', { token: 'alice', body: { type: 'unique', input: { key: 'k' } } });
      expect([dup.status, dup.json.error.code, dup.json.error.existingJobId]).toEqual([409, 'DUPLICATE', first.json.id]);
      await call('PATCH', '/job-types/add', { token: 'admin', body: { enabled: false } });
      const disabled = await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 1 } } });
      expect([disabled.status, disabled.json.error.code]).toEqual([409, 'JOB_TYPE_DISABLED']);
    });

    it('a scoped actor cannot choose the org of its job (400); a trusted client from authenticate can', async () => {
      const { call, engine } = await setupHttp(sqlite, {}, { worker: false });
      const r = await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 1 }, options: { orgId: 'globex' } } });
      expect(r.status).toBe(400);
      expect(r.json.error.issues[0].path).toEqual(['options', 'orgId']);
      const system = createJobsHandler(engine, { authenticate: () => engine.system, dashboard: false });
      const res = await system(new Request('http://x/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'add', input: { a: 1, b: 1 }, options: { orgId: 'globex' } }) }));
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ orgId: 'globex', ownerId: 'system' });
    });

    it('413 for a body over maxBodyBytes (declared or streamed) and for an input over the payload limit', async () => {
      const { call, handler } = await setupHttp(sqlite, { maxBodyBytes: 1000 }, { worker: false });
      const big = { type: 'add', input: { a: 1, b: 2, pad: 'x'.repeat(2000) } };
      const r = await call('POST', '/jobs', { token: 'alice', body: big });
      expect([r.status, r.json.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
      // No content-length: the limit holds on the streamed body too.
      const bytes = new TextEncoder().encode(JSON.stringify(big));
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes.slice(0, 600));
          c.enqueue(bytes.slice(600));
          c.close();
        },
      });
      const init = { method: 'POST', headers: { authorization: 'Bearer alice', 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit;
      const streamed = await handler(new Request('http://test.local/jobs', init));
      expect(streamed.status).toBe(413);
      expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');

      const roomy = await setupHttp(sqlite, { maxBodyBytes: 4 * 1024 * 1024 }, { worker: false });
      const tooBig = await roomy.call('POST', '/jobs', { token: 'alice', body: { type: 'report', input: { name: 'x'.repeat(300 * 1024) } } });
      expect([tooBig.status, tooBig.json.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    });

    it('415 UNSUPPORTED_MEDIA_TYPE for form posts, text/plain and a missing content type; nothing is written', async () => {
      const { call, engine } = await setupHttp(sqlite, {}, { worker: false });
      const form = await call('POST', '/jobs', { token: 'alice', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect([form.status, form.json.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      const body = JSON.stringify({ type: 'add', input: { a: 1, b: 2 } });
      const text = await call('POST', '/jobs', { token: 'alice', body, headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
      const multipart = await call('POST', '/jobs', { token: 'alice', body, headers: { 'content-type': 'multipart/form-data; boundary=x' } });
      expect(multipart.status).toBe(415);
      const none = await call('POST', '/jobs/x/cancel', { token: 'alice' });
      expect(none.status).toBe(415);
      // With a charset parameter it is still JSON.
      const ok = await call('POST', '/jobs', { token: 'alice', body, headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
      expect(ok.status).toBe(201);
      expect((await engine.system.list()).items).toHaveLength(1);
    });
  });

  describe('POST /jobs/batch', () => {
    it('201 { items } in request order', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      const r = await call('POST', '/jobs/batch', { token: 'alice', body: { jobs: [{ type: 'add', input: { a: 1, b: 1 } }, { type: 'add', input: { a: 2, b: 2 } }] } });
      expect(r.status).toBe(201);
      expect(r.json.items.map((j: { input: { a: number } }) => j.input.a)).toEqual([1, 2]);
    });

    it('all or nothing: one bad entry is a 400 naming its index, and nothing is written', async () => {
      const { call, engine } = await setupHttp(sqlite, {}, { worker: false });
      const r = await call('POST', '/jobs/batch', { token: 'alice', body: { jobs: [{ type: 'add', input: { a: 1, b: 1 } }, { type: 'add', input: { a: 'no' } }] } });
      expect(r.status).toBe(400);
      expect(r.json.error.issues[0].path.slice(0, 2)).toEqual([1, 'input']);
      expect((await engine.system.list()).items).toEqual([]);
      const notArray = await call('POST', '/jobs/batch', { token: 'alice', body: { jobs: {} } });
      expect(notArray.status).toBe(400);
    });
  });

  describe('GET /jobs', () => {
    it('filters (status and type repeatable), pages with limit and cursor, newest first', async () => {
      const { call, engine, clock } = await setupHttp(sqlite, {}, { worker: false });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: i, b: 0 } } })).json.id);
        await clock.advance(10);
      }
      await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 9, b: 0 }, options: { delayMs: 60_000 } } });
      await engine.system.cancel(ids[0]!);
      const page1 = await call('GET', '/jobs?status=queued&status=canceled&type=add&limit=2', { token: 'alice' });
      expect(page1.status).toBe(200);
      expect(page1.json.items.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[3]]);
      const rest = await call('GET', `/jobs?status=queued&status=canceled&type=add&limit=500&cursor=${encodeURIComponent(page1.json.nextCursor)}`, { token: 'alice' });
      expect(rest.json.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(rest.json.nextCursor).toBeNull();
      const scheduled = await call('GET', '/jobs?status=scheduled', { token: 'alice' });
      expect(scheduled.json.items).toHaveLength(1);
      const after = new Date(clock.now() - 5).toISOString();
      const recent = await call('GET', `/jobs?createdAfter=${after}`, { token: 'alice' });
      expect(recent.json.items).toHaveLength(1);
      const mine = await call('GET', '/jobs?ownerId=alice&limit=1', { token: 'alice' });
      expect(mine.json.items).toHaveLength(1);
    });

    it('400 for a bad status, limit, date, cursor or unknown parameter; 403 for another org as a non-admin', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      for (const q of ['status=nope', 'limit=0', 'limit=501', 'limit=abc', 'createdAfter=yesterday', 'cursor=%21%21', 'colour=red']) {
        const r = await call('GET', `/jobs?${q}`, { token: 'alice' });
        expect([q, r.status, r.json.error.code]).toEqual([q, 400, 'VALIDATION']);
      }
      const other = await call('GET', '/jobs?orgId=globex', { token: 'alice' });
      expect([other.status, other.json.error.code]).toEqual([403, 'PERMISSION_DENIED']);
      expect((await call('GET', '/jobs?orgId=acme', { token: 'alice' })).status).toBe(200);
    });
  });

  describe('GET /jobs/:id, /history, cancel, retry', () => {
    it('get 200, history 200 { items } oldest first, 404 NOT_FOUND for an unknown id', async () => {
      const { call, engine } = await setupHttp(sqlite);
      const job = (await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 2 } } })).json;
      await drain(engine);
      const got = await call('GET', `/jobs/${job.id}`, { token: 'alice' });
      expect(got.status).toBe(200);
      expect(got.json).toMatchObject({ id: job.id, status: 'completed', output: { sum: 3 }, progress: 50 });
      const h = await call('GET', `/jobs/${job.id}/history`, { token: 'alice' });
      expect(h.status).toBe(200);
      expect(h.json.items.map((e: { to: string }) => e.to)).toEqual(['queued', 'running', 'completed']);
      for (const path of ['/jobs/does-not-exist', '/jobs/does-not-exist/history', `/jobs/${'x'.repeat(500)}`]) {
        const r = await call('GET', path, { token: 'alice' });
        expect([r.status, r.json.error.code]).toEqual([404, 'NOT_FOUND']);
      }
    });

    it('cancel: 200 for the owner, 403 for another user of the org, 409 INVALID_STATE when finished, 400 for a body with fields', async () => {
      const { call, engine } = await setupHttp(sqlite, {}, { worker: false });
      const job = (await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 2 } } })).json;
      const byCarol = await call('POST', `/jobs/${job.id}/cancel`, { token: 'carol', body: {} });
      expect([byCarol.status, byCarol.json.error.code]).toEqual([403, 'PERMISSION_DENIED']);
      const withField = await call('POST', `/jobs/${job.id}/cancel`, { token: 'alice', body: { reason: 'x' } });
      expect(withField.status).toBe(400);
      // An empty body with the JSON content type is fine.
      const ok = await call('POST', `/jobs/${job.id}/cancel`, { token: 'alice', body: '', headers: { 'content-type': 'application/json' } });
      expect(ok.status).toBe(200);
      expect(ok.json).toMatchObject({ id: job.id, status: 'canceled', canceledBy: 'alice' });
      const again = await call('POST', `/jobs/${job.id}/cancel`, { token: 'alice', body: {} });
      expect([again.status, again.json.error.code]).toEqual([409, 'INVALID_STATE']);
      const missing = await call('POST', '/jobs/nope/cancel', { token: 'alice', body: {} });
      expect(missing.status).toBe(404);
      expect((await engine.system.get(job.id)).status).toBe('canceled');
    });

    it('retry: admins only (403), 200 queued for dead_letter, 409 for a queued job', async () => {
      const { call, engine } = await setupHttp(sqlite);
      const job = (await call('POST', '/jobs', { token: 'alice', body: { type: 'broken', input: {} } })).json;
      await drain(engine);
      expect((await call('GET', `/jobs/${job.id}`, { token: 'alice' })).json.status).toBe('dead_letter');
      const denied = await call('POST', `/jobs/${job.id}/retry`, { token: 'alice', body: {} });
      expect([denied.status, denied.json.error.code]).toEqual([403, 'PERMISSION_DENIED']);
      const r = await call('POST', `/jobs/${job.id}/retry`, { token: 'admin', body: {} });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ id: job.id, status: 'queued', retryCount: 0 });
      const again = await call('POST', `/jobs/${job.id}/retry`, { token: 'admin', body: {} });
      expect([again.status, again.json.error.code]).toEqual([409, 'INVALID_STATE']);
    });
  });

  describe('GET /metrics, GET /job-types, PATCH /job-types/:name', () => {
    it('metrics 200 with since; 400 for a bad since; 403 for orgId as a non-admin', async () => {
      const { call, engine } = await setupHttp(sqlite);
      await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 2 } } });
      await drain(engine);
      const m = await call('GET', '/metrics?since=2025-12-31T00:00:00Z', { token: 'alice' });
      expect(m.status).toBe(200);
      expect(m.json.countsByStatus.completed).toBe(1);
      expect(m.json.processingTime).toMatchObject({ count: 1 });
      expect(Object.keys(m.json.queueDepthByPriority).sort()).toEqual(['critical', 'high', 'low', 'normal']);
      expect((await call('GET', '/metrics?since=soon', { token: 'alice' })).status).toBe(400);
      expect((await call('GET', '/metrics?orgId=globex', { token: 'alice' })).status).toBe(403);
    });

    it('job-types 200 { items }; PATCH: 200 for admins with the settings in force, 403, 400 for bad settings or an unknown type, 415', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      const list = await call('GET', '/job-types', { token: 'carol' });
      expect(list.status).toBe(200);
      expect(list.json.items.find((t: { name: string }) => t.name === 'report')).toMatchObject({ requiresPermission: 'reports:send', enabled: true });
      const patched = await call('PATCH', '/job-types/add', { token: 'admin', body: { maxRetries: 7, displayName: 'Addition' } });
      expect(patched.status).toBe(200);
      expect(patched.json).toMatchObject({ name: 'add', maxRetries: 7, displayName: 'Addition' });
      expect((await call('GET', '/job-types', { token: 'alice' })).json.items.find((t: { name: string }) => t.name === 'add').maxRetries).toBe(7);
      const denied = await call('PATCH', '/job-types/add', { token: 'alice', body: { enabled: false } });
      expect([denied.status, denied.json.error.code]).toEqual([403, 'PERMISSION_DENIED']);
      const bad = await call('PATCH', '/job-types/add', { token: 'admin', body: { maxRetries: -1 } });
      expect([bad.status, bad.json.error.code, bad.json.error.issues[0].path]).toEqual([400, 'VALIDATION', ['maxRetries']]);
      const unknownField = await call('PATCH', '/job-types/add', { token: 'admin', body: { colour: 'red' } });
      expect(unknownField.status).toBe(400);
      const unknown = await call('PATCH', '/job-types/nope', { token: 'admin', body: { enabled: false } });
      expect([unknown.status, unknown.json.error.code]).toEqual([400, 'UNKNOWN_JOB_TYPE']);
      const form = await call('PATCH', '/job-types/add', { token: 'admin', body: 'enabled=false', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(form.status).toBe(415);
    });
  });

  describe('authentication, routing and unexpected errors', () => {
    it('401 UNAUTHENTICATED on every route without an actor', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      const routes: [string, string, unknown?][] = [
        ['POST', '/jobs', { type: 'add', input: { a: 1, b: 1 } }],
        ['POST', '/jobs/batch', { jobs: [] }],
        ['GET', '/jobs'],
        ['GET', '/jobs/x'],
        ['GET', '/jobs/x/history'],
        ['POST', '/jobs/x/cancel', {}],
        ['POST', '/jobs/x/retry', {}],
        ['GET', '/metrics'],
        ['GET', '/job-types'],
        ['PATCH', '/job-types/add', { enabled: false }],
        ['GET', '/events'],
      ];
      for (const [method, path, body] of routes) {
        for (const token of [undefined, 'mallory']) {
          const r = await call(method, path, { token, body });
          expect([method, path, r.status, r.json?.error.code]).toEqual([method, path, 401, 'UNAUTHENTICATED']);
        }
      }
    });

    it('404 ROUTE_NOT_FOUND for unknown paths, 405 METHOD_NOT_ALLOWED with Allow for a known path', async () => {
      const { call } = await setupHttp(sqlite, {}, { worker: false });
      const nf = await call('GET', '/nope', { token: 'alice' });
      expect([nf.status, nf.json.error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
      expect((await call('GET', '/jobs/x/y/z', { token: 'alice' })).json.error.code).toBe('ROUTE_NOT_FOUND');
      const put = await call('PUT', '/jobs', { token: 'alice', body: {} });
      expect([put.status, put.json.error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
      expect(put.res.headers.get('allow')!.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
      const del = await call('DELETE', '/jobs/abc', { token: 'alice' });
      expect([del.status, del.json.error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
      const getCancel = await call('GET', '/jobs/abc/cancel', { token: 'alice' });
      expect(getCancel.status).toBe(405);
      expect((await call('POST', '/metrics', { token: 'alice', body: {} })).status).toBe(405);
      // A CORS preflight gets no CORS headers: cross-site JSON requests never follow.
      const preflight = await call('OPTIONS', '/jobs', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(preflight.status).toBe(405);
      expect([...preflight.res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    });

    it('500 INTERNAL with no detail when authenticate throws or returns an invalid actor; onError gets the error', async () => {
      const { engine } = await setupHttp(sqlite, {}, { worker: false });
      const reported: unknown[] = [];
      const throwing = createJobsHandler(engine, {
        authenticate: () => {
          throw new Error('SELECT secret FROM sessions failed');
        },
        dashboard: false,
        onError: (e) => reported.push(e),
      });
      const r = await throwing(new Request('http://x/jobs'));
      expect(r.status).toBe(500);
      const text = await r.text();
      expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error' } });
      expect(text).not.toMatch(/SELECT|secret|at /);
      expect(reported).toHaveLength(1);
      const invalid = createJobsHandler(engine, { authenticate: () => ({ userId: '', orgId: 'acme' }), dashboard: false, onError: (e) => reported.push(e) });
      const r2 = await invalid(new Request('http://x/jobs'));
      expect(r2.status).toBe(500);
      expect(String((reported[1] as Error).message)).toMatch(/invalid actor/);
    });

    it('a stopped engine answers 500 INTERNAL, not a crash', async () => {
      const { call, engine, errors } = await setupHttp(sqlite, {}, { worker: false });
      await engine.stop({ graceMs: 0 });
      const r = await call('GET', '/jobs', { token: 'alice' });
      expect([r.status, r.json.error.code]).toEqual([500, 'INTERNAL']);
      expect(errors).toHaveLength(1);
    });
  });

  describe('options, basePath and the dashboard seam', () => {
    it('rejects bad options naming them', async () => {
      const { engine } = await setupHttp(sqlite, {}, { worker: false });
      expect(() => createJobsHandler(engine, { authenticate: bearer, basePath: 'jobs/' })).toThrow(/basePath/);
      expect(() => createJobsHandler(engine, {} as never)).toThrow(/authenticate/);
      expect(() => createJobsHandler(engine, { authenticate: bearer, maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
      expect(() => createJobsHandler(engine, { authenticate: bearer, colour: 'red' } as never)).toThrow(/colour/);
    });

    it('serves every route under basePath and nothing outside it', async () => {
      const { call, handler } = await setupHttp(sqlite, { basePath: '/jobs-api' }, { worker: false });
      expect((await call('GET', '/jobs', { token: 'alice' })).status).toBe(200);
      const outside = await handler(new Request('http://test.local/jobs', { headers: { authorization: 'Bearer alice' } }));
      expect(outside.status).toBe(404);
    });

    it('GET {basePath}/ and /assets/* go to the dashboard (no authentication); dashboard: false turns them off', async () => {
      const { handler } = await setupHttp(sqlite, { basePath: '/jobs-api', dashboard: true }, { worker: false });
      const page = await handler(new Request('http://test.local/jobs-api/'));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const redirect = await handler(new Request('http://test.local/jobs-api'));
      expect(redirect.status).toBe(308);
      const missing = await handler(new Request('http://test.local/jobs-api/assets/nope.js'));
      expect([missing.status, ((await missing.json()) as { error: { code: string } }).error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
      const off = await setupHttp(sqlite, { basePath: '/jobs-api', dashboard: false }, { worker: false });
      expect((await off.handler(new Request('http://test.local/jobs-api/'))).status).toBe(404);
    });
  });
});
