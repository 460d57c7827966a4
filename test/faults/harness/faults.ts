/**
 * The store-level faults (the process-level ones are {@link WorkerHandle}'s signals): a SQLite
 * write lock held past busy_timeout, terminated Postgres backends, Postgres row locks.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { StoreSpec } from '../fixtures/worker-config.js';
import { sleep } from './wait.js';
import type { WorkerHandle } from './worker-handle.js';

/** Writes a line to the harness log (`Cluster.note`). */
type Note = (fields: { k: string; [key: string]: unknown }) => void;

/** The Postgres server port of `spec` (throws on a SQLite spec, as a URL of '' does). */
function pgPort(spec: StoreSpec): number {
  return Number(new URL(spec.kind === 'postgres' ? spec.url : '').port || 5432);
}

/**
 * SQLite: a second connection takes `BEGIN EXCLUSIVE` and holds it for `ms` (past the
 * workers' busy_timeout, so their writes fail with SQLITE_BUSY), then commits.
 * `onHeld` runs once the lock is held.
 */
export async function holdSqliteLock(path: string, ms: number, note: Note, onHeld?: () => void): Promise<void> {
  // busy_timeout 0 and an async retry: a synchronous busy wait here would freeze the
  // harness, and with it the SIGCONT of a stopped worker that holds the write lock.
  const db = new Database(path, { timeout: 0 });
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        db.exec('BEGIN EXCLUSIVE');
        break;
      } catch (err) {
        if (!/BUSY|locked/i.test(String((err as Error).message)) || Date.now() > deadline) throw err;
        await sleep(5);
      }
    }
    note({ k: 'lock', ms });
    try {
      onHeld?.();
      await sleep(ms); // the fault's duration
    } finally {
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

/**
 * Postgres: terminates the backends of `workers`, found by `application_name` (set by the
 * harness in the URL) and by the client ports of the processes' own TCP sockets. Returns how
 * many backends were terminated.
 */
export async function terminateBackends(admin: pg.Client, spec: StoreSpec, workers: WorkerHandle[], note: Note): Promise<number> {
  const names = workers.map((w) => `jwf_${w.id}`);
  const ports = workers.flatMap((w) => clientPortsOf(w.pid, pgPort(spec)));
  const res = await admin.query<{ n: string }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
     WHERE pid <> pg_backend_pid() AND datname = current_database()
       AND (application_name = ANY($1::text[]) OR client_port = ANY($2::int[]))`,
    [names, ports],
  );
  const n = Number(res.rows[0]?.n ?? 0);
  note({ k: 'terminate', workers: workers.map((w) => w.id), backends: n });
  return n;
}

/**
 * Postgres: holds row locks on `jobIds` (another session's `SELECT … FOR UPDATE`) while
 * `fn` runs, so the workers' writes to those jobs (settle, heartbeat) wait on them.
 */
export async function withPostgresRowLocks<T>(url: string, schema: string, jobIds: string[], fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'jobwing-fault-locker' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT id FROM "${schema}".jobs WHERE id = ANY($1::text[]) FOR UPDATE`, [jobIds]);
    try {
      return await fn();
    } finally {
      await client.query('COMMIT');
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Postgres: how many of `worker`'s backends are waiting on a lock. */
export async function lockWaiters(admin: pg.Client, spec: StoreSpec, worker: WorkerHandle): Promise<number> {
  const res = await admin.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND (application_name = $1 OR client_port = ANY($2::int[]))`,
    [`jwf_${worker.id}`, clientPortsOf(worker.pid, pgPort(spec))],
  );
  return Number(res.rows[0]?.n ?? 0);
}

/** Local ports of `pid`'s TCP connections to `remotePort` (Linux /proc). */
export function clientPortsOf(pid: number, remotePort: number): number[] {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // fd closed meanwhile
      }
    }
    const ports: number[] = [];
    for (const file of ['tcp', 'tcp6']) {
      let text = '';
      try {
        text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 10) continue;
        const local = cols[1]!.split(':')[1]!;
        const remote = cols[2]!.split(':')[1]!;
        if (parseInt(remote, 16) === remotePort && inodes.has(cols[9]!)) ports.push(parseInt(local, 16));
      }
    }
    return ports;
  } catch {
    return [];
  }
}
