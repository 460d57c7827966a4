/**
 * The examples run as users run them: as child processes in a fresh directory, finishing on
 * their own with exit code 0.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, it } from 'vitest';

// `--import tsx` by absolute URL: the children run in a temp dir where 'tsx' does not resolve.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const example = (file: string) => fileURLToPath(new URL(`../examples/${file}`, import.meta.url));
const dirs: string[] = [];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

// The examples import 'jobwing' by name; tsx maps it to src/ through the repo's tsconfig
// `paths`, which it must be pointed at from a temp dir.
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));

function runExample(file: string, cwd: string, args: string[] = [], timeoutMs = 25_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const env = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
    const child = spawn(process.execPath, ['--import', tsx, example(file), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-example-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Independent runs in separate directories: run them side by side to keep the file short.
describe.concurrent('examples', () => {
  it('quickstart runs every kind of job to its end and exits 0 on its own', async ({ expect }) => {
    const cwd = tempDir();
    const r = await runExample('quickstart.ts', cwd);
    expect(r.stderr, r.stdout).toBe('');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = r.stdout;
    // Live progress and status lines of both orgs.
    expect(out).toMatch(/acme\/render-report \w{8}\s+█+\s+100%/);
    expect(out).toMatch(/globex\/render-report \w{8}\s+running → completed/);
    // Transient failures retried, then completed; permanent failure dead-lettered.
    expect(out).toMatch(/acme\/deliver-webhook \w{8}\s+running → retrying\s+\(transient: 503/);
    expect(out).toMatch(/acme\/deliver-webhook \w{8}\s+running → completed/);
    expect(out).toMatch(/globex\/charge-card \w{8}\s+running → dead_letter\s+\(permanent: card of cus_42 declined\)/);
    // The chain waits, then is released in order.
    expect(out).toMatch(/globex\/etl-step \w{8}\s+waiting → queued/);
    expect(out.indexOf('100%  extract')).toBeLessThan(out.indexOf('25%  transform'));
    expect(out.indexOf('100%  transform')).toBeLessThan(out.indexOf('25%  load'));
    // Dedup and org scoping.
    expect(out).toContain('duplicate submit rejected');
    expect(out).toContain('bob.get(alice’s job) → JobNotFoundError');
    // History of the webhook: three attempts, the last one completed.
    expect(out).toMatch(/attempt 3\s+running\s+→ completed/);
    // Metrics: 6 completed, 1 dead_letter; 2 of them in acme.
    expect(out).toContain('countsByStatus: completed=6 dead_letter=1');
    expect(out).toMatch(/processingTime: count=6 /);
    expect(out).toMatch(/charge-card\s+completed=0 failed=1 failure rate=100%/);
    // Each job shows a short id of its own (review defect 15: a UUIDv7's first 8 characters
    // are its timestamp, so every job of the demo showed the same one).
    const shortIds = new Set([...out.matchAll(/^\S*\s*[\w-]+\/[\w-]+ (\w{8})\s/gm)].map((m) => m[1]));
    expect(shortIds.size).toBeGreaterThanOrEqual(7);
    expect(out).toContain('acme only: completed=2');
    expect(out).toContain('Done: engine stopped.');
    expect(existsSync(join(cwd, 'jobwing-demo.sqlite'))).toBe(true);
  });

  it('two-process: jobs submitted by a web process run in a worker process, events reach the web process', async ({ expect }) => {
    const cwd = tempDir();
    const jobs = 4;
    const r = await runExample('two-process/run.ts', cwd, [String(jobs)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/\[worker\] worker ready/);
    // The worker ran each job; the web process (worker: false) heard progress and completion.
    expect(out.match(/\[worker\] completed resize-image/g)).toHaveLength(jobs);
    expect(out.match(/\[web\]\s+progress\s+\S+ 100% upload/g)).toHaveLength(jobs);
    expect(out.match(/\[web\]\s+status\s+\S+ running → completed/g)).toHaveLength(jobs);
    expect(out).not.toMatch(/\[web\]\s+status\s+\S+ \w+ → (dead_letter|canceled)/);
    expect(out).toContain(`all done: ${jobs}/${jobs} jobs completed`);
    expect(out).toContain('[worker] worker stopped');
    expect(out).toContain(`two-process: ${jobs} jobs submitted by web, run by worker; both processes exited 0`);
  });
});
