/** `GET /schedules` and `PATCH /schedules/:name` (issue 11): admin only, JSON as pinned. */
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../helpers/stores.js';
import { setupHttp } from './http-helpers.js';

const schedules = [{ name: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin', type: 'add', input: { a: 1, b: 2 }, orgId: 'acme' }];

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip !== '')(`schedule routes on ${kind.name}${kind.skip}`, () => {
    it('GET /schedules lists them for admins, 403 for others', async () => {
      const { call, clock } = await setupHttp(kind, {}, { schedules });
      expect((await call('GET', '/schedules', { token: 'alice' })).status).toBe(403);
      const r = await call('GET', '/schedules', { token: 'admin' });
      expect(r.status).toBe(200);
      // The fake clock starts at 2026-01-01T00:00Z; 02:00 in Berlin (CET) is 01:00Z.
      expect(r.json).toEqual({
        items: [{ name: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin', type: 'add', orgId: 'acme', catchUp: 'latest', enabled: true, nextRunAt: '2026-01-01T01:00:00.000Z', lastRunAt: null, lastJobId: null }],
      });
      expect(clock.now()).toBe(Date.UTC(2026, 0, 1));
    });

    it('PATCH /schedules/:name disables and enables; bad bodies and names are 400', async () => {
      const { call } = await setupHttp(kind, {}, { schedules });
      expect((await call('PATCH', '/schedules/nightly', { token: 'carol', body: { enabled: false } })).status).toBe(403);
      const off = await call('PATCH', '/schedules/nightly', { token: 'admin', body: { enabled: false } });
      expect(off.status).toBe(200);
      expect(off.json).toMatchObject({ name: 'nightly', enabled: false, nextRunAt: null });
      expect((await call('GET', '/schedules', { token: 'admin' })).json.items[0].enabled).toBe(false);
      const on = await call('PATCH', '/schedules/nightly', { token: 'admin', body: { enabled: true } });
      expect(on.json).toMatchObject({ enabled: true, nextRunAt: '2026-01-01T01:00:00.000Z' });
      const bad = await call('PATCH', '/schedules/nightly', { token: 'admin', body: { enabled: 'yes' } });
      expect([bad.status, bad.json.error.code]).toEqual([400, 'VALIDATION']);
      const unknown = await call('PATCH', '/schedules/nope', { token: 'admin', body: { enabled: true } });
      expect([unknown.status, unknown.json.error.code, unknown.json.error.message]).toEqual([400, 'VALIDATION', expect.stringMatching(/Unknown schedule "nope"/)]);
    });
  });
}
