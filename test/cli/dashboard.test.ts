/**
 * `jobwing dashboard` through the real binary: serves the API and the dashboard on 127.0.0.1
 * as the admin `system`, and a SIGTERM ends it cleanly (exit 0) even with an event stream open.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { jobwing, seededSqlite, startJobwing, type SeededStore } from './cli-harness.js';

describe('jobwing dashboard', () => {
  let store: SeededStore;
  beforeAll(async () => {
    store = await seededSqlite();
  });
  afterAll(() => store?.destroy());

  it('serves the API and the dashboard on 127.0.0.1 as system, and stops on SIGTERM with exit 0', async ({ expect }) => {
    const proc = await startJobwing(['dashboard', '--port', '0', ...store.flags]);
    const line = await proc.line(/^jobwing dashboard on http:\/\//);
    const base = /(http:\/\/\S+\/)/.exec(line)![1]!;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const jobs = await fetch(`${base}jobs`);
    expect(jobs.status).toBe(200);
    // Every org: the dashboard acts as the admin `system`.
    const body = (await jobs.json()) as { items: { orgId: string }[] };
    expect(new Set(body.items.map((j) => j.orgId))).toEqual(new Set(['acme', 'globex']));

    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    await page.text();

    // An open event stream must not keep the process alive after the signal.
    const events = new AbortController();
    const stream = await fetch(`${base}events`, { signal: events.signal });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');

    const run = await proc.stop('SIGTERM');
    events.abort();
    expect(run.signal, run.stderr).toBeNull();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('jobwing dashboard stopped');
  });

  it('a port in use: exit 1 naming the address', async ({ expect }) => {
    const first = await startJobwing(['dashboard', '--port', '0', ...store.flags]);
    const port = /:(\d+)\//.exec(await first.line(/^jobwing dashboard on /))![1]!;
    try {
      const r = await jobwing(['dashboard', '--port', port, ...store.flags]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`Cannot listen on 127.0.0.1:${port}`);
      expect(r.stderr).toContain('EADDRINUSE');
    } finally {
      await first.stop('SIGTERM');
    }
  });
});
