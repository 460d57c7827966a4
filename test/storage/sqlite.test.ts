/**
 * The SQLite store: the conformance suite against a temp file and `:memory:`, plus what only
 * SQLite has (pragmas, migrations, query plans, several processes on one file).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { JobwingError, ValidationError } from '../../src/errors.js';
import type { StorageAdapter } from '../../src/storage/adapter.js';
import { CLAIM_BATCH_SQL, CLAIM_SEQS_SQL, DUE_JOBS_SQL, NEXT_QUEUED_SQL } from '../../src/storage/sqlite/queries-claim.js';
import { FIND_DUPLICATE_SQL } from '../../src/storage/sqlite/queries-insert.js';
import { EXPIRED_LEASES_SQL } from '../../src/storage/sqlite/queries-lease.js';
import { PRUNABLE_SQL } from '../../src/storage/sqlite/queries-prune.js';
import { applySqliteMigrations, SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from '../../src/storage/sqlite/schema.js';
import { sqliteStorage, type SqliteStorageAdapter } from '../../src/storage/sqlite/sqlite-storage.js';
import { describeStorageConformance, newJob, T0 } from '../../src/testing/conformance/index.js';
import { scriptArgs } from '../helpers/script-bundle.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');

const tempDirs = new Map<StorageAdapter, string>();
function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'jobwing-sqlite-'));
}

describeStorageConformance({
  name: 'sqlite file',
  async create() {
    const dir = tempDir();
    const store = sqliteStorage({ path: join(dir, 'jobs.sqlite') });
    tempDirs.set(store, dir);
    return store;
  },
  async destroy(store) {
    await store.close();
    const dir = tempDirs.get(store);
    tempDirs.delete(store);
    if (dir) rmSync(dir, { recursive: true, force: true });
  },
  async connectPeer(store) {
    const peer = sqliteStorage({ path: (store as SqliteStorageAdapter).options.path });
    await peer.migrate();
    return peer;
  },
  capabilities: { multiProcess: true, pushWake: true, databaseClock: false },
});

describeStorageConformance({
  name: 'sqlite :memory:',
  create: async () => sqliteStorage({ path: ':memory:' }),
  capabilities: { multiProcess: false, pushWake: false, databaseClock: false },
});

// ── SQLite only ────────────────────────────────────────────────────────────────
describe('sqliteStorage (SQLite only)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  function fileStore(options: Parameters<typeof sqliteStorage>[0] = {}): { store: SqliteStorageAdapter; path: string; dir: string } {
    const dir = tempDir();
    const path = join(dir, 'jobs.sqlite');
    const store = sqliteStorage({ path, ...options });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    return { store, path, dir };
  }

  describe('options', () => {
    it('defaults: WAL, busy_timeout 5000, synchronous FULL, bounded WAL, statement journals in memory', async () => {
      const { store } = fileStore();
      await store.migrate();
      expect(store.pragmas()).toEqual({ journalMode: 'wal', busyTimeoutMs: 5000, synchronous: 'FULL', journalSizeLimitBytes: 64 * 1024 * 1024, tempStore: 'MEMORY' });
      expect(store.capabilities).toEqual({ multiProcess: true, pushWake: true, databaseClock: false });
      expect(sqliteStorage().options).toEqual({ path: 'jobwing.sqlite', synchronous: 'FULL', busyTimeoutMs: 5000, watchWal: true });
    });

    it('applies synchronous and busyTimeoutMs as configured', async () => {
      const { store } = fileStore({ synchronous: 'NORMAL', busyTimeoutMs: 1234 });
      await store.migrate();
      expect(store.pragmas()).toMatchObject({ journalMode: 'wal', busyTimeoutMs: 1234, synchronous: 'NORMAL' });
    });

    it(':memory: is not multi-process', () => {
      expect(sqliteStorage({ path: ':memory:' }).capabilities.multiProcess).toBe(false);
    });

    it.each([
      [{ synchronous: 'OFF' }, 'synchronous'],
      [{ busyTimeoutMs: -1 }, 'busyTimeoutMs'],
      [{ busyTimeoutMs: 1.5 }, 'busyTimeoutMs'],
      [{ path: '' }, 'path'],
      [{ path: 42 }, 'path'],
      [{ paht: 'x.sqlite' }, 'paht'],
    ])('rejects %o naming %s', (options, name) => {
      let err: unknown;
      try {
        sqliteStorage(options as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toContain(name);
      expect((err as ValidationError).issues.map((i) => i.path[0])).toContain(name);
    });

    it('opens lazily, and fails clearly (naming path) when the directory does not exist', async () => {
      const dir = tempDir();
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, 'lazy.sqlite');
      const lazy = sqliteStorage({ path });
      expect(existsSync(path)).toBe(false);
      await lazy.migrate();
      expect(existsSync(path)).toBe(true);
      await lazy.close();

      const missing = sqliteStorage({ path: join(dir, 'no', 'such', 'dir', 'x.sqlite') });
      await expect(missing.migrate()).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: ['path'] })] });
      expect(existsSync(join(dir, 'no'))).toBe(false);
    });
  });

  describe('errors', () => {
    it('wraps driver errors as STORAGE errors naming the operation, and refuses use after close', async () => {
      const store = sqliteStorage({ path: ':memory:' });
      const err = await store.claimJobs({ workerId: 'w', types: ['x'], limit: 1, now: T0, leaseMs: 1000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JobwingError);
      expect(err).toMatchObject({ code: 'STORAGE' });
      expect((err as Error).message).toMatch(/claimJobs.*migrate\(\)/);
      await store.close();
      await store.close();
      await expect(store.getJob({ id: 'x', orgId: null })).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining('closed') });
    });
  });

  describe('write lock held elsewhere', () => {
    it('waits up to busyTimeoutMs, then fails with a STORAGE error (cause SQLITE_BUSY) and nothing written', async () => {
      const { store, path } = fileStore({ busyTimeoutMs: 50 });
      await store.migrate();
      const blocker = new Database(path);
      cleanups.push(() => void blocker.close());
      blocker.exec('BEGIN IMMEDIATE');
      const job = newJob();
      const err = await store.insertJobs({ jobs: [job], actorId: 'a', now: T0, atomic: false }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORAGE', cause: expect.objectContaining({ code: 'SQLITE_BUSY' }) });
      expect((err as Error).message).toContain('insertJobs');
      // Reads are never blocked by a writer in WAL mode.
      expect(await store.getJob({ id: job.id, orgId: null })).toBeNull();
      blocker.exec('COMMIT');
      expect((await store.insertJobs({ jobs: [job], actorId: 'a', now: T0, atomic: false }))[0]?.kind).toBe('inserted');
    });
  });

  describe('migrations', () => {
    it('are recorded once per version and idempotent', async () => {
      const { store, path } = fileStore();
      await store.migrate();
      await store.migrate();
      const db = new Database(path, { readonly: true });
      cleanups.push(() => void db.close());
      expect(db.prepare('SELECT version FROM jobwing_migrations ORDER BY version').all()).toEqual(SQLITE_MIGRATIONS.map((m) => ({ version: m.version })));
      const writer = new Database(path);
      cleanups.push(() => void writer.close());
      expect(applySqliteMigrations(writer)).toEqual([]);
    });

    it('apply only the missing ones, in one transaction (all or nothing)', () => {
      const db = new Database(':memory:');
      cleanups.push(() => void db.close());
      expect(applySqliteMigrations(db)).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
      const next = SQLITE_SCHEMA_VERSION + 1;
      const broken = [...SQLITE_MIGRATIONS, { version: next, name: 'broken', up: ['CREATE TABLE extra (x INTEGER)', 'THIS IS NOT SQL'] }];
      expect(() => applySqliteMigrations(db, broken)).toThrow();
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'extra'`).get()).toBeUndefined();
      const good = [...SQLITE_MIGRATIONS, { version: next, name: 'extra', up: ['CREATE TABLE extra (x INTEGER)'] }];
      expect(applySqliteMigrations(db, good)).toEqual([next]);
      expect(applySqliteMigrations(db, good)).toEqual([]);
    });
  });

  describe('query plans', () => {
    it('claims, promotion, rescue, dedup and prune use their indexes', async () => {
      const { store, path } = fileStore();
      await store.migrate();
      const db = new Database(path);
      cleanups.push(() => void db.close());
      const plan = (sql: string, ...params: unknown[]) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
      expect(plan(NEXT_QUEUED_SQL, '["a"]', 10)).toMatch(/USING INDEX jobs_claim_idx/);
      expect(plan(NEXT_QUEUED_SQL, '["a"]', 10)).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
      // The claim's UPDATE finds its rows by seq (rowid). The planner preferred a scan of every
      // queued entry of jobs_status_list_idx (status = 'queued' is an equality on its first
      // column), checking each against the IN-list: O(queued jobs) per claim.
      for (const claim of [plan(CLAIM_BATCH_SQL, T0, 'w', T0, T0, '["a"]', 10), plan(CLAIM_SEQS_SQL, T0, 'w', T0, T0, '[1,2]')]) {
        expect(claim).toMatch(/SEARCH jobs USING INTEGER PRIMARY KEY \(rowid=\?\)/);
        expect(claim).not.toMatch(/jobs_status_list_idx/);
      }
      expect(plan(DUE_JOBS_SQL, T0, 10)).toMatch(/USING INDEX jobs_due_idx/);
      expect(plan(EXPIRED_LEASES_SQL, T0, 10)).toMatch(/USING INDEX jobs_lease_idx/);
      expect(plan(PRUNABLE_SQL, T0, 10)).toMatch(/USING INDEX jobs_prune_idx/);
      expect(plan(FIND_DUPLICATE_SQL, 'h', T0, 'o')).toMatch(/USING INDEX jobs_dedup_idx/);
    });
  });

  describe('several processes on one file', () => {
    it('3 processes + this one migrate a fresh file at once, then claim concurrently: no double claim, no SQLITE_BUSY', async () => {
      const { store, path } = fileStore({ synchronous: 'NORMAL' });
      const children = Array.from({ length: 3 }, (_, i) => startChild('claim-worker.ts', [path, `child-${i}`]));
      for (const c of children) cleanups.push(c.kill);
      await Promise.all(children.map((c) => c.waitFor('booted')));

      // Everyone migrates the fresh file at the same moment.
      for (const c of children) c.send('migrate');
      await store.migrate();
      await Promise.all(children.map((c) => c.waitFor('ready')));
      const db = new Database(path);
      cleanups.push(() => void db.close());
      expect(db.prepare('SELECT version FROM jobwing_migrations ORDER BY version').all()).toEqual(SQLITE_MIGRATIONS.map((m) => ({ version: m.version })));

      const N = 600;
      const out = await store.insertJobs({ jobs: Array.from({ length: N }, () => newJob({ type: 'mp' })), actorId: 'test', now: T0 - 1, atomic: true });
      expect(out.filter((o) => o.kind === 'inserted')).toHaveLength(N);

      // Everyone claims at once.
      for (const c of children) c.send('go');
      const mine: string[] = [];
      for (let idle = 0, now = T0; idle < 3; now++) {
        const jobs = await store.claimJobs({ workerId: 'parent', types: ['mp'], limit: 4, now, leaseMs: 60_000 });
        idle = jobs.length === 0 ? idle + 1 : 0;
        for (const c of jobs) mine.push(`${c.job.id}:${c.attempt}`);
        const settled = await store.settleJobs({
          now,
          settles: jobs.map((c) => ({ jobId: c.job.id, attempt: c.attempt, actorId: 'engine:parent', outcome: { kind: 'completed', output: 'parent', outputJson: '"parent"' } })),
        });
        expect(settled.every((s) => s.kind === 'settled')).toBe(true);
        await new Promise((r) => setTimeout(r, jobs.length === 0 ? 5 : 0));
      }
      const results = await Promise.all(children.map((c) => c.done));
      const claims = [...mine];
      for (const r of results) {
        expect(r.stderr).not.toMatch(/SQLITE_BUSY|database is locked/);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const lines = r.stdout.trim().split('\n');
        claims.push(...(JSON.parse(lines[lines.length - 1]!) as string[]));
      }
      expect(claims).toHaveLength(N);
      expect(new Set(claims.map((c) => c.split(':')[0])).size).toBe(N);
      expect(claims.every((c) => c.endsWith(':1'))).toBe(true);

      expect((await store.collectMetrics({ orgId: null, since: T0 - 1, now: T0 + 10_000 })).countsByStatus.completed).toBe(N);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare(`SELECT COUNT(*) AS n FROM job_history WHERE to_status = 'running'`).get()).toEqual({ n: N });
      expect(db.prepare(`SELECT COUNT(*) AS n FROM job_history WHERE to_status = 'completed'`).get()).toEqual({ n: N });
    }, 60_000);
  });
});

// ── child processes ─────────────────────────────────────────────────────────
interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns a fixture (bundled, see helpers/script-bundle.ts), speaking a line protocol on stdin/stdout. */
function startChild(fixture: string, args: string[]): {
  waitFor: (line: string) => Promise<void>;
  send: (line: string) => void;
  kill: () => void;
  done: Promise<ChildResult>;
} {
  const child = spawn(process.execPath, [...scriptArgs(join(here, 'fixtures', fixture)), ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<ChildResult>((resolveDone) =>
    child.on('close', (code) => {
      exited = true;
      for (const w of waiters.splice(0)) w();
      resolveDone({ code, stdout, stderr });
    }),
  );
  async function waitFor(line: string): Promise<void> {
    while (!stdout.split('\n').includes(line)) {
      if (exited) throw new Error(`${fixture} exited before "${line}": ${stderr}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  }
  return {
    waitFor,
    send: (line) => void child.stdin.write(`${line}\n`),
    kill: () => void (exited || child.kill()),
    done,
  };
}
