/**
 * jobwing over HTTP: `npm run demo:http`, then open the printed URL.
 *
 * An app with two organizations and a fake login (no passwords: pick a user), the jobs
 * handler mounted on node:http under /jobs-api (REST routes, live events, the dashboard),
 * and a job type that reports progress, so you can watch progress bars move in a browser.
 *
 *   alice  org acme    may submit reports
 *   bob    org globex  may submit reports
 *   admin  org ops     admin: sees every org, retries dead-letter jobs, edits job types
 *
 * Log in by opening /login?as=alice (sets a cookie), or call the API with a bearer token:
 *   curl -H 'authorization: Bearer alice' http://127.0.0.1:4000/jobs-api/jobs
 *
 * Runs until Ctrl-C, then stops the engine cleanly. Data lives in jobwing-http-demo.sqlite
 * (pass --fresh to start empty). Env: PORT (Default: 4000; 0 picks a free one), HOST.
 *
 * In your own app, import from 'jobwing' and 'jobwing/http' instead of '../src/…'.
 */
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { defineJobType, JobEngine, PermanentError, sqliteStorage, TransientError, type Actor } from '../src/index.js';
import { createJobsHandler, toNodeHandler } from '../src/http/index.js';

const DB = 'jobwing-http-demo.sqlite';
const BASE = '/jobs-api';
/** Waits `ms`, or rejects as soon as the job's signal aborts (cancel, timeout, shutdown). */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error(`aborted: ${String(signal.reason)}`));
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

// ── Job types ────────────────────────────────────────────────────────────────────────────

/** Renders a report page by page: progress, a checkpoint per page, cancellable. */
const renderReport = defineJobType({
  name: 'render-report',
  displayName: 'Render report',
  input: z.object({ title: z.string().min(1).max(100), pages: z.number().int().min(1).max(50) }),
  output: z.object({ url: z.string(), pages: z.number() }),
  checkpoint: z.object({ page: z.number() }),
  requiresPermission: 'reports:send',
  dedupWindowMs: 0,
  async handler(input, ctx) {
    for (let page = (ctx.checkpoint?.page ?? 0) + 1; page <= input.pages; page++) {
      await sleep(400, ctx.signal);
      await ctx.saveCheckpoint({ page });
      await ctx.progress(Math.round((page / input.pages) * 100), `page ${page} of ${input.pages}`);
    }
    return { url: `https://reports.example/${encodeURIComponent(input.title)}.pdf`, pages: input.pages };
  },
});

/** Fails twice, then works: shows retries with backoff. */
const flakyImport = defineJobType({
  name: 'flaky-import',
  displayName: 'Flaky import',
  input: z.object({ source: z.string() }),
  maxRetries: 3,
  backoff: { baseMs: 1_000, factor: 2, maxMs: 10_000, jitter: 'none' },
  dedupWindowMs: 0,
  async handler(input, ctx) {
    await ctx.progress(50, `reading ${input.source}`);
    if (ctx.job.attempt <= 2) throw new TransientError(`${input.source} timed out (attempt ${ctx.job.attempt})`);
    return { rows: 42 };
  },
});

/** Always fails: ends in the dead-letter queue, for an admin to retry. */
const brokenExport = defineJobType({
  name: 'broken-export',
  displayName: 'Broken export',
  input: z.object({ target: z.string() }),
  dedupWindowMs: 0,
  async handler(input) {
    throw new PermanentError(`no route to ${input.target}`);
  },
});

// ── The fake login ───────────────────────────────────────────────────────────────────────

const USERS: Record<string, Actor> = {
  alice: { userId: 'alice', orgId: 'acme', permissions: ['reports:send'] },
  bob: { userId: 'bob', orgId: 'globex', permissions: ['reports:send'] },
  admin: { userId: 'admin', orgId: 'ops', admin: true },
};

/** The user of a request: `Authorization: Bearer <name>` or the `demo_user` cookie. */
function currentUser(request: Request): Actor | null {
  const bearer = /^Bearer (\w+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  const cookie = /(?:^|;\s*)demo_user=(\w+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  const name = bearer ?? cookie;
  return (name && USERS[name]) || null;
}

const landingPage = (user: Actor | null) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>jobwing HTTP demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}button{font:inherit;margin:.2rem}</style></head>
<body><h1>jobwing HTTP demo</h1>
<p>${user ? `Logged in as <strong>${user.userId}</strong> (org <code>${user.orgId}</code>${user.admin ? ', admin' : ''}). <a href="/logout">Log out</a>` : 'Not logged in.'}</p>
<p>Log in as: <a href="/login?as=alice">alice (acme)</a> · <a href="/login?as=bob">bob (globex)</a> · <a href="/login?as=admin">admin (all orgs)</a></p>
<p><a href="${BASE}/">Open the dashboard</a> · <a href="${BASE}/openapi.json">OpenAPI document</a></p>
${user ? `<p><button id="render">Submit a report</button> <button id="flaky">Submit a flaky import</button> <button id="broken">Submit a broken export</button></p><pre id="out"></pre>
<script type="module">
  // A JSON POST: the content type a cross-site form cannot send, so no CSRF token is needed.
  const submit = async (type, input) => {
    const res = await fetch('${BASE}/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, input }) });
    document.getElementById('out').textContent = res.status + ' ' + JSON.stringify(await res.json(), null, 2);
  };
  document.getElementById('render').onclick = () => submit('render-report', { title: 'Q' + Math.ceil(Math.random() * 4) + ' report', pages: 10 + Math.floor(Math.random() * 15) });
  document.getElementById('flaky').onclick = () => submit('flaky-import', { source: 'crm.csv' });
  document.getElementById('broken').onclick = () => submit('broken-export', { target: 'ftp://nowhere' });
</script>` : ''}
<p>API with a token: <code>curl -H 'authorization: Bearer alice' ${BASE}/jobs</code></p>
</body></html>`;

// ── The app ──────────────────────────────────────────────────────────────────────────────

if (process.argv.includes('--fresh')) for (const f of [DB, `${DB}-wal`, `${DB}-shm`]) rmSync(f, { force: true });

const engine = new JobEngine({ jobTypes: [renderReport, flakyImport, brokenExport], storage: sqliteStorage({ path: DB }), concurrency: 4, pollIntervalMs: 500 });
engine.on('engine:error', ({ error, source }) => console.error(`[engine:${source}]`, error));
await engine.start();

const jobs = createJobsHandler(engine, { authenticate: currentUser, basePath: BASE });

// The app's own routes around the mounted handler (any router would do the same).
const app = async (request: Request): Promise<Response> => {
  const url = new URL(request.url);
  if (url.pathname === BASE || url.pathname.startsWith(`${BASE}/`)) return jobs(request);
  if (url.pathname === '/login') {
    const name = url.searchParams.get('as') ?? '';
    if (!USERS[name]) return new Response('unknown user', { status: 400 });
    return new Response(null, { status: 303, headers: { location: `${BASE}/`, 'set-cookie': `demo_user=${name}; Path=/; HttpOnly; SameSite=Lax` } });
  }
  if (url.pathname === '/logout') {
    return new Response(null, { status: 303, headers: { location: '/', 'set-cookie': 'demo_user=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax' } });
  }
  if (url.pathname === '/') return new Response(landingPage(currentUser(request)), { headers: { 'content-type': 'text/html; charset=utf-8' } });
  return new Response('not found', { status: 404 });
};

// A few jobs per org, so the dashboard has something to show on first start.
if ((await engine.system.list({ limit: 1 })).items.length === 0) {
  const alice = engine.as(USERS.alice!);
  const bob = engine.as(USERS.bob!);
  await alice.submit('render-report', { title: 'Acme annual report', pages: 30 });
  await alice.submit('flaky-import', { source: 'acme-ledger.csv' });
  await bob.submit('render-report', { title: 'Globex roadmap', pages: 20 });
  await bob.submit('broken-export', { target: 'sftp://globex-archive' });
}

const server = http.createServer(toNodeHandler(app));
const port = Number(process.env.PORT ?? 4000);
server.listen(port, process.env.HOST ?? '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', resolve));
const { address, port: actual } = server.address() as AddressInfo;
console.log(`jobwing HTTP demo on http://${address}:${actual}/  (dashboard: http://${address}:${actual}${BASE}/)`);
console.log('Log in at /login?as=alice | bob | admin, or use  -H "authorization: Bearer alice". Ctrl-C stops.');

let stopping = false;
process.on('SIGINT', () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  // Stopping the engine also ends open event streams, so the server can close.
  server.close();
  server.closeIdleConnections();
  // A short grace: a report still rendering is aborted and resumes from its checkpoint on restart.
  void engine
    .stop({ graceMs: 500 })
    .then(() => {
      server.closeAllConnections();
      console.log('Stopped.');
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
});
