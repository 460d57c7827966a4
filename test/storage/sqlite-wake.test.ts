/**
 * Cross-process wake-ups on SQLite: another connection's commit (another process or another
 * store on the same file) reaches `subscribe` listeners, an engine and its event feed without
 * waiting for the poll; our own commits wake nobody; the watch ends with the store.
 * Every wait has a hang guard far below the 60 s poll used here; no timing is asserted.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { FSWatcher } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine } from '../../src/index.js';
import { sqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { WalWatcher, type WatchFn } from '../../src/storage/sqlite/wal-watcher.js';
import { newJob, T0 } from '../../src/testing/conformance/index.js';
import { scriptArgs } from '../helpers/script-bundle.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-wake-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'jobs.sqlite');
}

/** Resolves when `cond()` holds, checking after every event-loop turn; rejects on `signal`. */
async function until(cond: () => boolean, signal: AbortSignal): Promise<void> {
  while (!cond()) {
    signal.throwIfAborted();
    await new Promise((r) => setImmediate(r));
  }
}

describe('sqliteStorage: WAL watch', () => {
  it('another store on the file wakes subscribers; our own commits do not', async () => {
    const path = dbPath();
    const a = sqliteStorage({ path });
    const b = sqliteStorage({ path });
    cleanups.push(() => a.close(), () => b.close());
    await a.migrate();
    await b.migrate();
    expect(a.capabilities.pushWake).toBe(true);
    let notices = 0;
    const unsubscribe = await a.subscribe(() => notices++);
    expect(a.walWatchStatus().watching).toBe(true);

    await a.insertJobs({ jobs: [newJob()], actorId: 't', now: T0, atomic: false }); // own: no wake
    await b.insertJobs({ jobs: [newJob()], actorId: 't', now: T0, atomic: false });
    await until(() => notices > 0, AbortSignal.timeout(5_000));
    await b.insertJobs({ jobs: [newJob()], actorId: 't', now: T0, atomic: false });
    await until(() => notices > 1, AbortSignal.timeout(5_000));
    expect(a.walWatchStatus().wakes).toBe(notices);
    // Own writes never changed data_version: exactly one wake per foreign commit here.
    expect(notices).toBe(2);

    await unsubscribe();
    expect(a.walWatchStatus().watching).toBe(false);
  });

  it('close() ends the watch; watchWal: false and :memory: have none', async () => {
    const path = dbPath();
    const a = sqliteStorage({ path });
    await a.migrate();
    await a.subscribe(() => undefined);
    expect(a.walWatchStatus().watching).toBe(true);
    await a.close();
    expect(a.walWatchStatus().watching).toBe(false);

    const off = sqliteStorage({ path, watchWal: false });
    cleanups.push(() => off.close());
    expect(off.capabilities.pushWake).toBe(false);
    await (await off.subscribe(() => undefined))();
    expect(off.walWatchStatus().watching).toBe(false);
    expect(sqliteStorage({ path: ':memory:' }).capabilities.pushWake).toBe(false);
    expect(() => sqliteStorage({ path, watchWal: 'yes' as never })).toThrow(/watchWal/);
  });

  it('closes the file-system watcher on close and survives a watch that cannot start', () => {
    const closed: string[] = [];
    const fake: WatchFn = (path) => {
      const w = new EventEmitter() as unknown as FSWatcher;
      (w as unknown as { close: () => void }).close = () => closed.push(path);
      return w;
    };
    const w = new WalWatcher('/tmp/x/jobs.sqlite', () => 1, fake);
    w.subscribe(() => undefined);
    expect(w.status.watching).toBe(true);
    w.close();
    expect(closed).toEqual(['/tmp/x']);
    expect(w.status.watching).toBe(false);

    const broken = new WalWatcher('/tmp/x/jobs.sqlite', () => 1, () => {
      throw new Error('ENOSPC');
    });
    expect(() => broken.subscribe(() => undefined)).not.toThrow();
    expect(broken.status.watching).toBe(false);
    broken.close();
  });

  it('a job submitted by a worker: false engine in another process starts without waiting for the poll', async () => {
    const path = dbPath();
    const started: string[] = [];
    const ping = defineJobType({
      name: 'ping',
      input: z.object({ n: z.number() }),
      async handler(_input, ctx) {
        started.push(ctx.job.id);
        return {};
      },
    });
    const worker = new JobEngine({ jobTypes: [ping], pollIntervalMs: 60_000, storage: sqliteStorage({ path, synchronous: 'NORMAL' }) });
    cleanups.push(() => worker.stop({ graceMs: 0 }));
    const heard: string[] = [];
    worker.on('job:status', (e) => heard.push(`${e.to} ${e.jobId}`));
    await worker.start();

    const child = spawn(process.execPath, [...scriptArgs(join(here, 'fixtures', 'wake-submitter.ts')), path], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    cleanups.push(() => void child.kill());
    const lines = () => out.split('\n');
    const guard = AbortSignal.timeout(15_000); // child boot included; the poll is 60 s
    await until(() => lines().includes('ready') || child.exitCode !== null, guard);
    expect(lines(), err).toContain('ready');

    child.stdin.write('submit\n');
    await until(() => lines().some((l) => l.startsWith('submitted ')), guard);
    const jobId = lines().find((l) => l.startsWith('submitted '))!.slice('submitted '.length);
    // The worker here hears the other process's commit: it runs the job...
    await until(() => started.includes(jobId), AbortSignal.timeout(5_000));
    // ...and its event feed delivers the child's `queued` event to local listeners.
    await until(() => heard.includes(`queued ${jobId}`), AbortSignal.timeout(5_000));
    // The child's event feed hears our completion the same way.
    await until(() => lines().includes(`completed ${jobId}`), AbortSignal.timeout(5_000));

    child.stdin.write('stop\n');
    expect(await exited, err).toBe(0);
  }, 30_000);
});
