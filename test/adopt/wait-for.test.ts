/** `client.waitFor(id)`: resolves once the job is finished, whichever engine runs it. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { EngineStoppedError, JobEngine, JobNotFoundError, sqliteStorage, TimeoutError, ValidationError } from '../../src/index.js';
import { postgresStorage } from '../../src/postgres.js';
import { drain } from '../../src/testing/index.js';
import { add, broken } from '../helpers/fixtures.js';
import { PG_URL, storeKinds, turns } from '../helpers/stores.js';
import { square } from './fixtures/square.js';
import { sharedStore } from './shared-store.js';
import { scriptArgs } from '../helpers/script-bundle.js';

for (const kind of storeKinds()) describe(`waitFor on ${kind.name}${kind.skip}`, () => {
  it.skipIf(kind.skip !== '')('a web engine waits for jobs a worker engine runs: completed, dead_letter, canceled', async () => {
    const s = sharedStore(kind);
    const web = await s.engine({ jobTypes: [add, broken], worker: false });
    const worker = await s.engine({ jobTypes: [add, broken] });
    const alice = web.as({ userId: 'alice', orgId: 'acme' });
    const ok = await alice.submit('add', { a: 2, b: 40 });
    const bad = await alice.submit('broken', {});
    const later = await alice.submit('add', { a: 1, b: 1 }, { delayMs: 60_000 });
    const waits = [alice.waitFor(ok.id, { timeoutMs: 120_000 }), alice.waitFor(bad.id), alice.waitFor(later.id)];
    await s.clock.advance(1000);
    await drain(worker);
    await alice.cancel(later.id);
    await s.clock.advance(1000); // the web engine's poll reads the worker's events
    const [a, b, c] = (await Promise.all(waits)) as [Awaited<(typeof waits)[0]>, Awaited<(typeof waits)[1]>, Awaited<(typeof waits)[2]>];
    expect(a.status).toBe('completed');
    expect(a.output).toEqual({ sum: 42 });
    expect(b.status).toBe('dead_letter');
    expect(c.status).toBe('canceled');
    // Already finished: resolves from the read alone.
    expect((await alice.waitFor(ok.id)).status).toBe('completed');
    // The timeouts were cleared when the waits resolved.
    expect(s.clock.liveTimers(120_000)).toBe(0);
    await alice.waitFor(ok.id, { timeoutMs: 5_001 });
    expect(s.clock.liveTimers(5_001)).toBe(0);
  });

  it.skipIf(kind.skip !== '')('rejects with TimeoutError (TIMEOUT), the signal\'s reason, or EngineStoppedError; scoped like get', async () => {
    const s = sharedStore(kind);
    const web = await s.engine({ jobTypes: [add], worker: false });
    const alice = web.as({ userId: 'alice', orgId: 'acme' });
    const job = await alice.submit('add', { a: 1, b: 2 });

    const timedOut = alice.waitFor(job.id, { timeoutMs: 5_000 });
    const caught = timedOut.catch((e: unknown) => e);
    await turns(3);
    expect(s.clock.liveTimers(5_000)).toBe(1);
    await s.clock.advance(5_000);
    const err = await caught;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'TIMEOUT', jobId: job.id, timeoutMs: 5_000, lastStatus: 'queued' });
    expect((await alice.get(job.id)).status).toBe('queued'); // the job is unaffected

    const ac = new AbortController();
    const aborted = alice.waitFor(job.id, { signal: ac.signal, timeoutMs: 60_000 }).catch((e: unknown) => e);
    await turns(3);
    ac.abort(new Error('user left'));
    expect(((await aborted) as Error).message).toBe('user left');
    await expect(alice.waitFor(job.id, { signal: AbortSignal.abort('gone') })).rejects.toBe('gone');
    expect(s.clock.liveTimers(5_000) + s.clock.liveTimers(60_000)).toBe(0); // no timer left behind

    const bob = web.as({ userId: 'bob', orgId: 'globex' });
    await expect(bob.waitFor(job.id)).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(alice.waitFor('no-such-id')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(alice.waitFor(job.id, { timeoutMs: -1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(alice.waitFor(job.id, { timeout: 5 } as never)).rejects.toThrow(/waitFor options.*timeout/);

    const pending = alice.waitFor(job.id).catch((e: unknown) => e);
    await turns(3);
    await web.stop({ graceMs: 0 });
    expect(await pending).toBeInstanceOf(EngineStoppedError);
  });
});

// ── across processes: a worker child process runs the job ───────────────────────────────
const dirs: string[] = [];
const schemas: string[] = [];
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (PG_URL && schemas.length) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const sc of schemas) await c.query(`DROP SCHEMA IF EXISTS "${sc}" CASCADE`);
    await c.end();
  }
});

function startWorkerChild(args: string[]) {
  const script = fileURLToPath(new URL('./fixtures/worker-child.ts', import.meta.url));
  const child = spawn(process.execPath, [...scriptArgs(script), ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m) => m === 'ready' && resolve());
    void exited.then((code) => reject(new Error(`worker child exited (${code}) before ready`)));
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, ready, exited, stop: () => child.send('stop') };
}

const crossKinds = [
  { name: 'sqlite', skip: '' },
  { name: 'postgres', skip: PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)' },
] as const;

for (const { name, skip } of crossKinds) describe(`waitFor across processes on ${name}${skip}`, () => {
  it.skipIf(skip !== '')('a web process (worker: false) waits for a job run by a worker child process', async () => {
    let args: string[];
    let storage;
    if (name === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'jobwing-waitfor-'));
      dirs.push(dir);
      const path = join(dir, 'jobs.sqlite');
      args = ['sqlite', path];
      storage = sqliteStorage({ path });
    } else {
      const schema = `jobwing_waitfor_${randomBytes(4).toString('hex')}`;
      schemas.push(schema);
      args = ['postgres', PG_URL!, schema];
      storage = postgresStorage({ connectionString: PG_URL!, schema, poolSize: 2 });
    }
    const web = new JobEngine({ jobTypes: [square], worker: false, storage, pollIntervalMs: 50 });
    await web.start(); // migrates first, so the child does not race the schema creation
    onTestFinished(() => web.stop());
    const worker = startWorkerChild(args);
    await worker.ready;
    const job = await web.system.submit('square', { n: 12 });
    const done = await web.system.waitFor(job.id, { timeoutMs: 20_000 });
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ square: 144, pid: worker.child.pid });
    worker.stop();
    expect(await worker.exited).toBe(0);
  });
});
