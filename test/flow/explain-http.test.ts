/** GET /jobs/:id/explain: the explanation as JSON, scoped like GET /jobs/:id. */
import { describe, expect, it } from 'vitest';
import { drain } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { setupHttp } from '../http/http-helpers.js';

const sqlite = storeKinds()[0]!;

describe('GET /jobs/:id/explain', () => {
  it('200 with { jobId, status, reason, detail, since } (since as ISO); 404 for an unknown id', async () => {
    const { call, engine } = await setupHttp(sqlite);
    const job = (await call('POST', '/jobs', { token: 'alice', body: { type: 'add', input: { a: 1, b: 2 } } })).json;
    await drain(engine);
    const r = await call('GET', `/jobs/${job.id}/explain`, { token: 'alice' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ jobId: job.id, status: 'completed', reason: 'finished' });
    expect(r.json.detail).toContain('completed');
    expect(r.json.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const missing = await call('GET', '/jobs/does-not-exist/explain', { token: 'alice' });
    expect([missing.status, missing.json.error.code]).toEqual([404, 'NOT_FOUND']);
  });
});
