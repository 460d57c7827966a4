/**
 * examples/http-server.ts as a user runs it: a child process that prints its URL, serves the
 * API, the login and the dashboard, keeps two orgs apart, and stops cleanly on SIGINT.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const example = fileURLToPath(new URL('../../examples/http-server.ts', import.meta.url));

describe('examples/http-server.ts', () => {
  it('prints its URL, serves two orgs apart, and exits 0 on SIGINT', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'jobwing-http-example-'));
    onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
    const child = spawn(process.execPath, ['--import', tsx, example, '--fresh'], { cwd, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const base = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const m = /on (http:\/\/[\d.]+:\d+)\//.exec(stdout);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`exited ${code}: ${stdout}${stderr}`)));
    });

    const jobsOf = async (token: string) => ((await (await fetch(`${base}/jobs-api/jobs`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { orgId: string }[] }).items;
    expect(new Set((await jobsOf('alice')).map((j) => j.orgId))).toEqual(new Set(['acme']));
    expect(new Set((await jobsOf('bob')).map((j) => j.orgId))).toEqual(new Set(['globex']));
    expect((await jobsOf('admin')).length).toBe(4);
    const login = await fetch(`${base}/login?as=bob`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const submitted = await fetch(`${base}/jobs-api/jobs`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'render-report', input: { title: 't', pages: 1 } }) });
    expect(submitted.status).toBe(201);
    expect(((await submitted.json()) as { orgId: string }).orgId).toBe('globex');
    const page = await fetch(`${base}/jobs-api/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // An open event stream must not keep the server from stopping.
    const events = await fetch(`${base}/jobs-api/events`, { headers: { cookie } });
    expect(events.status).toBe(200);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('Stopped.');
    expect(stderr).toBe('');
  });
});
