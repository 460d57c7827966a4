/**
 * The dashboard's assets as the handler serves them, without a browser: the page, its
 * headers, caching, and that every module it loads is served by the handler itself (no CDN,
 * works offline). The browser test (dashboard.browser.test.ts) covers behaviour.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/index.js';
import { createTestEngine } from '../../src/testing/index.js';
import { createJobsHandler } from '../../src/http/index.js';
import { serveDashboard } from '../../src/http/dashboard/index.js';
import { DASHBOARD_ASSETS, DASHBOARD_PAGE } from '../../src/http/dashboard/assets.generated.js';

const get = (path: string, headers: Record<string, string> = {}) => new Request('http://localhost' + path, { headers });

describe('dashboard assets', () => {
  it('serves the page at / with a strict content security policy', async () => {
    const res = serveDashboard('/', get('/jobs-api/'))!;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await res.text()).toContain('<script type="module" src="./assets/app.js">');
  });

  it('redirects the base path without a trailing slash, keeping the query', () => {
    const res = serveDashboard('/', get('/jobs-api?x=1'))!;
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('/jobs-api/?x=1');
    expect(serveDashboard('', get('/jobs-api'))!.status).toBe(308);
  });

  it('serves each asset with its content type and answers 304 to a matching If-None-Match', async () => {
    const res = serveDashboard('/assets/app.js', get('/assets/app.js'))!;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = res.headers.get('etag')!;
    expect(await res.text()).toBe(DASHBOARD_ASSETS['app.js']!.body);
    const again = serveDashboard('/assets/app.js', get('/assets/app.js', { 'if-none-match': etag }))!;
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(serveDashboard('/assets/styles.css', get('/assets/styles.css'))!.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers HEAD without a body', async () => {
    const res = serveDashboard('/', new Request('http://localhost/', { method: 'HEAD' }))!;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('returns null (not mine) for unknown assets, odd names, other paths and other methods', () => {
    for (const p of ['/assets/nope.js', '/assets/__proto__', '/assets/constructor', '/assets/../index.ts', '/assets/', '/jobs', '/other']) {
      expect(serveDashboard(p, get(p)), p).toBeNull();
    }
    expect(serveDashboard('/', new Request('http://localhost/', { method: 'POST', body: '{}' }))).toBeNull();
  });

  it('loads nothing from outside: every module import and page reference is a served asset', () => {
    const names = new Set(Object.keys(DASHBOARD_ASSETS));
    const refs = [...DASHBOARD_PAGE.body.matchAll(/(?:src|href)="\.\/assets\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const r of refs) expect(names, r).toContain(r);
    for (const [name, asset] of Object.entries(DASHBOARD_ASSETS)) {
      if (!name.endsWith('.js')) continue;
      const imports = [...asset.body.matchAll(/(?:import|export)[^'"`;]*?from\s*["']([^"']+)["']|import\s*["']([^"']+)["']/g)].map((m) => m[1] ?? m[2]!);
      for (const spec of imports) {
        expect(spec, `${name} imports ${spec}`).toMatch(/^\.\/[a-z0-9.-]+\.js$/);
        expect(names, `${name} imports ${spec}`).toContain(spec.slice(2));
      }
      expect(asset.body, name).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    }
    expect(DASHBOARD_ASSETS['licenses.txt']!.body).toContain('MIT');
  });

  it('the committed assets module matches its sources (scripts/vendor-dashboard.mjs --check)', () => {
    expect(() => execFileSync(process.execPath, ['scripts/vendor-dashboard.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('dashboard through createJobsHandler', async () => {
  const noop = defineJobType({ name: 'noop', input: z.object({}), async handler() {} });
  const { engine } = await createTestEngine({ jobTypes: [noop] });
  afterAll(() => engine.stop());
  const authenticate = () => null; // the page and its assets need no session; the API does

  it('serves the page and assets at the root when basePath is empty', async () => {
    const handler = createJobsHandler(engine, { authenticate });
    const page = await handler(get('/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await handler(get('/assets/hooks.js'))).status).toBe(200);
    const missing = await handler(get('/assets/missing.js'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
    expect((await handler(get('/jobs'))).status).toBe(401);
  });

  it('serves under a basePath and redirects the bare basePath', async () => {
    const handler = createJobsHandler(engine, { authenticate, basePath: '/ops/jobs' });
    expect((await handler(get('/ops/jobs/'))).status).toBe(200);
    expect((await handler(get('/ops/jobs/assets/app.js'))).status).toBe(200);
    const bare = await handler(get('/ops/jobs'));
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/ops/jobs/');
  });

  it('serves nothing with dashboard: false', async () => {
    const handler = createJobsHandler(engine, { authenticate, dashboard: false });
    expect((await handler(get('/'))).status).toBe(404);
    expect((await handler(get('/assets/app.js'))).status).toBe(404);
  });
});
