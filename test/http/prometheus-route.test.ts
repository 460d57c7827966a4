/**
 * `GET /metrics/prometheus` (API.md "HTTP"): admin only, the text exposition format 0.0.4,
 * built by the same `prometheusText` that jobwing exports.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { drain } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { setupHttp } from './http-helpers.js';

const sqlite = storeKinds()[0]!;

describe('GET /metrics/prometheus', () => {
  it('200 for an admin: text/plain; version=0.0.4, job counts by status that match the store', async () => {
    const { call, engine } = await setupHttp(sqlite);
    await engine.system.submit('add', { a: 1, b: 2 });
    await engine.system.submit('add', { a: 2, b: 2 });
    await drain(engine);
    const r = await call('GET', '/metrics/prometheus', { token: 'admin' });
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    const families = parsePrometheusTextFormat(r.text) as { name: string; metrics: { labels?: Record<string, string>; value?: string }[] }[];
    const jobs = families.find((f) => f.name === 'jobwing_jobs');
    expect(jobs?.metrics.find((m) => m.labels?.status === 'completed')?.value).toBe('2');
  });

  it('403 PERMISSION_DENIED for a non-admin, 401 without a token', async () => {
    const { call } = await setupHttp(sqlite);
    const denied = await call('GET', '/metrics/prometheus', { token: 'alice' });
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('PERMISSION_DENIED');
    expect((await call('GET', '/metrics/prometheus')).status).toBe(401);
  });
});
