/**
 * Tenant scoping over REST, on both stores: org A's token never sees, changes or counts
 * org B's jobs; another org's id answers exactly like an id that does not exist; admins read
 * and act across orgs. (Scoping of `GET /events`: events.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { drain } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { setupHttp } from './http-helpers.js';

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`REST scoping (${kind.name})${kind.skip}`, () => {
    it('org A never sees org B’s jobs: get, history, cancel, list, metrics; admins see and act across orgs', async () => {
      const { call, engine } = await setupHttp(kind);
      const bobs = (await call('POST', '/jobs', { token: 'bob', body: { type: 'add', input: { a: 1, b: 1 }, options: { delayMs: 60_000 } } })).json;
      const broken = (await call('POST', '/jobs', { token: 'bob', body: { type: 'broken', input: {} } })).json;
      const alices = (await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 2, b: 2 }, options: { delayMs: 60_000 } } })).json;
      await drain(engine);

      // Another org's id is indistinguishable from a missing one (same status, same code, same message shape).
      for (const [method, suffix] of [['GET', ''], ['GET', '/history'], ['POST', '/cancel']] as const) {
        const body = method === 'POST' ? {} : undefined;
        const foreign = await call(method, `/jobs/${bobs.id}${suffix}`, { token: 'alice', body });
        const missing = await call(method, `/jobs/00000000-0000-0000-0000-000000000000${suffix}`, { token: 'alice', body });
        expect([foreign.status, foreign.json.error.code]).toEqual([404, 'NOT_FOUND']);
        expect(foreign.json.error.message.replace(bobs.id, 'ID')).toBe(missing.json.error.message.replace('00000000-0000-0000-0000-000000000000', 'ID'));
        expect(JSON.stringify(foreign.json)).not.toMatch(/globex|bob/);
      }
      expect((await engine.system.get(bobs.id)).status).toBe('scheduled'); // the cancel changed nothing

      const aliceList = await call('GET', '/jobs', { token: 'alice' });
      expect(aliceList.json.items.map((j: { id: string }) => j.id)).toEqual([alices.id]);
      const bobList = await call('GET', '/jobs?status=scheduled&status=dead_letter', { token: 'bob' });
      expect(bobList.json.items.map((j: { id: string }) => j.id).sort()).toEqual([bobs.id, broken.id].sort());
      const aliceMetrics = (await call('GET', '/metrics', { token: 'alice' })).json;
      expect(aliceMetrics.countsByStatus).toMatchObject({ scheduled: 1, dead_letter: 0 });
      const bobMetrics = (await call('GET', '/metrics', { token: 'bob' })).json;
      expect(bobMetrics.countsByStatus).toMatchObject({ scheduled: 1, dead_letter: 1 });

      // Admin: every org, one org by filter, and actions across orgs.
      const all = await call('GET', '/jobs', { token: 'admin' });
      expect(all.json.items).toHaveLength(3);
      const globex = await call('GET', '/jobs?orgId=globex', { token: 'admin' });
      expect(globex.json.items.every((j: { orgId: string }) => j.orgId === 'globex')).toBe(true);
      expect((await call('GET', '/metrics?orgId=acme', { token: 'admin' })).json.countsByStatus.scheduled).toBe(1);
      expect((await call('GET', `/jobs/${bobs.id}`, { token: 'admin' })).status).toBe(200);
      const retried = await call('POST', `/jobs/${broken.id}/retry`, { token: 'admin', body: {} });
      expect(retried.json).toMatchObject({ status: 'queued', orgId: 'globex' });
      const canceled = await call('POST', `/jobs/${bobs.id}/cancel`, { token: 'admin', body: {} });
      expect(canceled.json).toMatchObject({ status: 'canceled', canceledBy: 'root' });
    });

    it('a batch and a dependency cannot reach into another org', async () => {
      const { call } = await setupHttp(kind, {}, { worker: false });
      const bobs = (await call('POST', '/jobs', { token: 'bob', body: { type: 'add', input: { a: 1, b: 1 } } })).json;
      const dep = await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 1 }, options: { dependsOn: [bobs.id] } } });
      expect([dep.status, dep.json.error.code]).toEqual([404, 'NOT_FOUND']);
      const batch = await call('POST', '/jobs/batch', { token: 'alice', body: { jobs: [{ type: 'add', input: { a: 5, b: 5 } }, { type: 'add', input: { a: 1, b: 1 }, options: { dependsOn: [bobs.id] } }] } });
      expect(batch.status).toBe(404);
      expect((await call('GET', '/jobs', { token: 'alice' })).json.items).toEqual([]);
    });
  });
}
