/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (never a
 * downloaded browser). The handler is mounted with toNodeHandler on an ephemeral port under
 * a basePath; jobs are submitted through the API and their handlers wait on gates the test
 * opens, so every step waits on a condition (Playwright's auto-waiting locators, engine
 * events), never on time.
 *
 * The screenshot goes to docs/dashboard.png when JOBWING_UPDATE_SCREENSHOT=1, else to a temp
 * file (so a plain `npm test` leaves the work tree clean).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { z } from 'zod';
import { defineJobType, JobEngine, PermanentError, sqliteStorage, type Actor, type Job, type StorageAdapter } from '../../src/index.js';
import { postgresStorage } from '../../src/postgres.js';
import { EventRecorder } from '../../src/testing/index.js';
import { createJobsHandler, toNodeHandler } from '../../src/http/index.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`[jobwing] dashboard browser test SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium).`);
}

const BASE = '/jobs-api';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** Runs axe-core's WCAG 2.1 A/AA rules on the page; returns one line per violation. */
const AXE_RUN = `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
  .then((r) => r.violations.map((v) => v.id + ': ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`;
const ADMIN: Actor = { userId: 'root', orgId: 'ops', admin: true };
const ALICE: Actor = { userId: 'alice', orgId: 'acme' };
const BOB: Actor = { userId: 'bob', orgId: 'acme' };

/** Promises the test resolves by name: a handler waits at `gates.wait(key)` until `open(key)`. */
class Gates {
  readonly #open = new Map<string, () => void>();
  readonly #waits = new Map<string, Promise<void>>();
  #get(key: string): Promise<void> {
    let p = this.#waits.get(key);
    if (!p) {
      p = new Promise<void>((resolve) => this.#open.set(key, resolve));
      this.#waits.set(key, p);
    }
    return p;
  }
  wait(key: string): Promise<void> {
    return this.#get(key);
  }
  open(key: string): void {
    void this.#get(key);
    this.#open.get(key)!();
  }
  openAll(): void {
    for (const resolve of this.#open.values()) resolve();
  }
}

const gates = new Gates();
const failedOnce = new Set<string>();

const report = defineJobType({
  name: 'report',
  displayName: 'Monthly report',
  input: z.object({ month: z.string() }),
  async handler(_input, ctx) {
    await ctx.progress(50, 'halfway');
    await gates.wait(`${ctx.job.id}:1`);
    await ctx.progress(100, 'rendered');
    await gates.wait(`${ctx.job.id}:2`);
    return { pages: 12 };
  },
});
const longRunning = defineJobType({
  name: 'long',
  input: z.object({}),
  async handler(_input, ctx) {
    await ctx.progress(10, 'working');
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    throw new Error(`aborted: ${String(ctx.signal.reason)}`);
  },
});
// Fails permanently on its first attempt only, so an admin retry completes it.
const flaky = defineJobType({
  name: 'flaky',
  input: z.object({ n: z.number() }),
  maxRetries: 0,
  async handler(_input, ctx) {
    if (!failedOnce.has(ctx.job.id)) {
      failedOnce.add(ctx.job.id);
      throw new PermanentError('upstream said no');
    }
    return { ok: true };
  },
});

const PG_URL = process.env.JOBWING_TEST_PG_URL || undefined;
if (hasChromium && !PG_URL) console.warn('[jobwing] dashboard browser test on Postgres SKIPPED: set JOBWING_TEST_PG_URL to run it.');

/** The same browser session on each store: the page must not care which one serves it. */
function storage(kind: 'sqlite' | 'postgres', schema: string): StorageAdapter {
  return kind === 'sqlite' ? sqliteStorage({ path: ':memory:' }) : postgresStorage({ connectionString: PG_URL!, schema, poolSize: 4 });
}

for (const kind of ['sqlite', 'postgres'] as const) {
  const skip = !hasChromium ? ' (SKIPPED: /usr/bin/chromium missing)' : kind === 'postgres' && !PG_URL ? ' (SKIPPED: set JOBWING_TEST_PG_URL)' : '';
  describe.skipIf(skip !== '')(`dashboard in chromium on ${kind}${skip}`, () => {
    const schema = `jobwing_dash_${randomBytes(5).toString('hex')}`;
    let engine: JobEngine<typeof report | typeof longRunning | typeof flaky>;
    let recorder: EventRecorder;
    let server: http.Server;
    let origin: string;
    let browser: Browser;
    let admin: BrowserContext;
    let page: Page;
    const shotDir = mkdtempSync(join(tmpdir(), 'jobwing-dash-'));

    const submit = async (actor: 'root' | 'alice', type: string, input: unknown): Promise<Job> => {
      const res = await fetch(`${origin}${BASE}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `user=${actor}` },
        body: JSON.stringify({ type, input }),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as Job;
    };
    const statusOf = (jobId: string, to: string) => recorder.next('job:status', (e) => e.jobId === jobId && e.to === to);
    /** The job's row: the table row whose link has the job's full id as its text. */
    const rowOf = (p: Page, jobId: string): Locator =>
      p.getByRole('row').filter({ has: p.getByRole('link', { name: jobId, exact: true }) });
    const statusText = (row: Locator, status: string) => row.locator('.status').getByText(status, { exact: true });

    beforeAll(async () => {
      engine = new JobEngine({
        jobTypes: [report, longRunning, flaky],
        storage: storage(kind, schema),
        concurrency: 8,
      });
      recorder = new EventRecorder(engine);
      await engine.start();
      const handler = createJobsHandler(engine, {
        basePath: BASE,
        events: { retryMs: 100 }, // a dropped stream comes back quickly in the reconnect test
        // A stand-in for an app's session cookie.
        authenticate: (request) => {
          const cookie = request.headers.get('cookie') ?? '';
          if (/(^|;\s*)user=root(;|$)/.test(cookie)) return ADMIN;
          if (/(^|;\s*)user=alice(;|$)/.test(cookie)) return ALICE;
          if (/(^|;\s*)user=bob(;|$)/.test(cookie)) return BOB;
          return null;
        },
      });
      server = http.createServer(toNodeHandler(handler));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await admin.addCookies([{ name: 'user', value: 'root', url: origin }]);
      page = await admin.newPage();
      page.setDefaultTimeout(10_000);
    });

    afterAll(async () => {
      gates.openAll();
      await browser?.close();
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await engine?.stop({ graceMs: 1_000 });
      rmSync(shotDir, { recursive: true, force: true });
      if (kind === 'postgres') {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        try {
          await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await c.end();
        }
      }
    });

    it('shows live progress, cancels, retries as admin, filters by status', async () => {
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      // No full loads: every list request the page makes asks for one bounded page.
      const listLimits: (number | null)[] = [];
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.pathname === `${BASE}/jobs` && r.method() === 'GET') listLimits.push(u.searchParams.has('limit') ? Number(u.searchParams.get('limit')) : null);
      });
      // Anything the page's Content-Security-Policy blocks is a bug (a style, a script, a request).
      await page.addInitScript(
        'window.cspViolations = []; document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));',
      );
      await page.goto(`${origin}${BASE}/`);
      await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
      await page.getByText('Live', { exact: true }).waitFor(); // the SSE stream is open
      // Browser-side expressions are strings: this project compiles without the DOM library.
      await page.evaluate('window.notReloaded = true');

      // Jobs: a job submitted through the API appears, its bar climbs to 100, it completes.
      await page.getByRole('link', { name: 'Jobs', exact: true }).click();
      await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
      // Job data is shown as text, never as markup (and the page's CSP forbids inline script anyway).
      const job = await submit('root', 'report', { month: '2026-11<img src=x onerror="window.pwned=1">' });
      const row = rowOf(page, job.id);
      await row.locator('[role="progressbar"][aria-valuenow="50"]').waitFor();
      gates.open(`${job.id}:1`);
      await row.locator('[role="progressbar"][aria-valuenow="100"]').waitFor();
      gates.open(`${job.id}:2`);
      await statusText(row, 'completed').waitFor();

      // Cancel a running job with its button.
      const long = await submit('root', 'long', {});
      const longRow = rowOf(page, long.id);
      await statusText(longRow, 'running').waitFor();
      const canceled = statusOf(long.id, 'canceled');
      await longRow.getByRole('button', { name: 'Cancel', exact: true }).click();
      await canceled;
      await statusText(longRow, 'canceled').waitFor();
      await longRow.getByRole('button', { name: 'Cancel' }).waitFor({ state: 'detached' });

      // Dead letter: retry one job, then everything matching the filter after a confirmation.
      const dead = await submit('root', 'flaky', { n: 1 });
      await statusOf(dead.id, 'dead_letter');
      await page.getByRole('link', { name: 'Dead letter', exact: true }).click();
      const deadRow = rowOf(page, dead.id);
      const completedAgain = statusOf(dead.id, 'completed');
      await deadRow.getByRole('button', { name: 'Retry', exact: true }).click();
      await completedAgain;
      await deadRow.waitFor({ state: 'detached' }); // it left the dead-letter queue

      const more = [await submit('root', 'flaky', { n: 2 }), await submit('root', 'flaky', { n: 3 })];
      await Promise.all(more.map((j) => statusOf(j.id, 'dead_letter')));
      await page.getByLabel('Type').selectOption('flaky');
      for (const j of more) await rowOf(page, j.id).waitFor();
      await page.getByRole('button', { name: 'Retry all matching…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Retry all matching jobs?' });
      await dialog.getByText('with type flaky').waitFor();
      const allCompleted = Promise.all(more.map((j) => statusOf(j.id, 'completed')));
      await dialog.getByRole('button', { name: 'Retry all' }).click();
      await allCompleted;
      await page.getByText('Done: 2 retried.').waitFor();

      // Filter by status: only completed jobs remain, and the filter is in the URL.
      await page.getByRole('link', { name: 'Jobs', exact: true }).click();
      await rowOf(page, long.id).waitFor();
      await page.getByLabel('Status').selectOption('completed');
      await rowOf(page, long.id).waitFor({ state: 'detached' });
      await rowOf(page, job.id).waitFor();
      expect(page.url()).toContain('status=completed');
      const statuses = await page.locator('table.jobs tbody .status').allTextContents();
      expect(statuses.length).toBe(4); // the report and the three flaky jobs
      expect(new Set(statuses)).toEqual(new Set(['completed']));

      // The job's detail: input, output, history timeline.
      await page.getByRole('link', { name: job.id, exact: true }).click();
      await page.getByRole('heading', { name: `Job ${job.id}` }).waitFor();
      await page.getByLabel('Output').getByText('"pages": 12').waitFor();
      await page.getByLabel('Input').getByText('<img src=x onerror=').waitFor();
      expect(await page.evaluate('window.pwned')).toBeUndefined();
      await page.getByRole('list', { name: 'History, oldest first' }).getByText('running →').waitFor();

      // Overview: counts from GET /metrics.
      await page.getByRole('link', { name: 'Overview', exact: true }).click();
      const byStatus = page.getByRole('table', { name: 'Jobs by status' });
      await byStatus.getByRole('row').filter({ hasText: 'completed' }).getByText('4', { exact: true }).waitFor();
      await byStatus.getByRole('row').filter({ hasText: 'canceled' }).getByText('1', { exact: true }).waitFor();

      // Job types (admin): switch `enabled` off and on, edit a runtime setting.
      await page.getByRole('link', { name: 'Job types', exact: true }).click();
      const card = page.getByRole('article', { name: 'long' });
      const announced = (text: string) => page.getByRole('status').filter({ hasText: text }).waitFor();
      await card.getByLabel('Enabled').uncheck();
      await announced('long: disabled saved.');
      expect((await engine.system.jobTypes()).find((t) => t.name === 'long')!.enabled).toBe(false);
      await card.getByLabel('Enabled').check();
      await announced('long: enabled saved.');
      await card.getByRole('button', { name: 'Edit settings of long' }).click();
      await card.getByLabel('Max retries').fill('5');
      await card.getByRole('button', { name: 'Save' }).click();
      await announced('long: settings saved.');
      const long2 = (await engine.system.jobTypes()).find((t) => t.name === 'long')!;
      expect([long2.enabled, long2.maxRetries]).toEqual([true, 5]);

      expect(await page.evaluate('window.notReloaded')).toBe(true);
      expect(pageErrors).toEqual([]);
      expect(listLimits.length).toBeGreaterThan(3);
      expect(listLimits.filter((l) => l === null || l > 500)).toEqual([]);
      expect(await page.evaluate('window.cspViolations')).toEqual([]);

      // The screenshot: the job list with one job part-way.
      const shown = await submit('root', 'report', { month: '2026-12' });
      await page.getByRole('link', { name: 'Jobs', exact: true }).click();
      await page.getByLabel('Status').selectOption('');
      await rowOf(page, shown.id).locator('[role="progressbar"][aria-valuenow="50"]').waitFor();
      const shot = process.env.JOBWING_UPDATE_SCREENSHOT === '1' && kind === 'sqlite' ? 'docs/dashboard.png' : join(shotDir, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: false });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    });

    it('scopes a non-admin (own org, no Retry, no Organization filter, refusals shown), fits a phone, works by keyboard, survives a dropped stream', async () => {
      const own = await submit('alice', 'long', {});
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      try {
        await context.addCookies([{ name: 'user', value: 'alice', url: origin }]);
        const phone = await context.newPage();
        phone.setDefaultTimeout(10_000);
        await phone.goto(`${origin}${BASE}/#/jobs`);
        const row = rowOf(phone, own.id);
        await statusText(row, 'running').waitFor();
        await row.getByRole('button', { name: 'Cancel', exact: true }).waitFor();
        expect(await phone.getByRole('row').count()).toBe(2); // header + alice's one job
        expect(await phone.getByLabel('Organization').count()).toBe(0);
        expect(await phone.getByRole('button', { name: 'Retry' }).count()).toBe(0);
        // Usable on a phone: the page does not scroll sideways (wide tables scroll in their box).
        const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
        expect(overflow).toBeLessThanOrEqual(0);
        expect(await row.getByRole('link', { name: own.id, exact: true }).isVisible()).toBe(true);

        // Keyboard: the owner cancels with Enter on the focused button.
        await row.getByRole('button', { name: 'Cancel', exact: true }).focus();
        await phone.keyboard.press('Enter');
        await statusText(row, 'canceled').waitFor();

        // A refused action is shown, naming the job and the contract's code: Bob (same org)
        // may see Alice's job but not cancel it.
        const hers = await submit('alice', 'long', {});
        const bobContext = await browser.newContext();
        try {
          await bobContext.addCookies([{ name: 'user', value: 'bob', url: origin }]);
          const bob = await bobContext.newPage();
          bob.setDefaultTimeout(10_000);
          await bob.goto(`${origin}${BASE}/#/jobs`);
          await rowOf(bob, hers.id).getByRole('button', { name: 'Cancel', exact: true }).click();
          await bob.getByRole('alert').filter({ hasText: `Could not cancel job ${hers.id}` }).filter({ hasText: 'PERMISSION_DENIED' }).waitFor();
        } finally {
          await bobContext.close();
        }
        await engine.as(ALICE).cancel(hers.id);

        // A dropped connection: the stream reconnects (Last-Event-ID) and what happened
        // meanwhile still reaches the screen.
        const next = await submit('alice', 'long', {});
        const nextRow = rowOf(phone, next.id);
        await statusText(nextRow, 'running').waitFor();
        server.closeAllConnections();
        await engine.as(ALICE).cancel(next.id);
        await statusText(nextRow, 'canceled').waitFor();
        await phone.getByText('Live', { exact: true }).waitFor();
      } finally {
        await context.close();
      }
    });

    // The markup does not depend on the store: audit it once.
    it.runIf(kind === 'sqlite')('passes the axe-core WCAG 2.1 AA audit on every view, light and dark', async () => {
      const someJob = await submit('root', 'flaky', { n: 99 });
      await statusOf(someJob.id, 'dead_letter');
      for (const colorScheme of ['light', 'dark'] as const) {
        // bypassCSP only so the audit script can be injected; the page itself runs under its CSP.
        const context = await browser.newContext({ bypassCSP: true, colorScheme });
        try {
          await context.addCookies([{ name: 'user', value: 'root', url: origin }]);
          const p = await context.newPage();
          p.setDefaultTimeout(10_000);
          await p.goto(`${origin}${BASE}/`);
          await p.addScriptTag({ content: AXE_SOURCE });
          const views: [string, Locator][] = [
            ['#/', p.getByRole('table', { name: 'Jobs by status' })],
            ['#/jobs', p.locator('table.jobs')],
            [`#/jobs/${someJob.id}`, p.getByRole('list', { name: 'History, oldest first' })],
            ['#/dead-letter', p.getByRole('button', { name: 'Retry all matching…' })],
            ['#/types', p.getByRole('article', { name: 'long' })],
          ];
          for (const [hash, ready] of views) {
            await p.evaluate(`location.hash = ${JSON.stringify(hash)}`);
            await ready.waitFor();
            expect(await p.evaluate<string[]>(AXE_RUN), `${colorScheme} ${hash}`).toEqual([]);
          }
        } finally {
          await context.close();
        }
      }
    });

    it('tells a visitor without a session that they are not signed in', async () => {
      const context = await browser.newContext();
      try {
        const anon = await context.newPage();
        anon.setDefaultTimeout(10_000);
        await anon.goto(`${origin}${BASE}/#/jobs`);
        await anon.getByRole('alert').filter({ hasText: 'not signed in' }).first().waitFor();
        expect(await anon.getByRole('row').count()).toBe(0);
      } finally {
        await context.close();
      }
    });
  });
}
