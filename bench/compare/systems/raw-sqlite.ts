/**
 * A raw better-sqlite3 loop: the floor of what a SQLite queue can do, with none of the
 * bookkeeping (no history, leases, validation, events). WAL, synchronous=NORMAL.
 * Concurrency 1 claims one job per transaction; concurrency C > 1 claims 100 per transaction,
 * runs them C at a time and completes them in one transaction. Idle: polls every 5 ms.
 */
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { payload, type SystemDef } from '../peer.js';

export const rawSqlite: SystemDef = {
  name: 'raw',
  label: 'raw better-sqlite3 loop',
  backend: 'sqlite',
  async create(o) {
    const db = new Database(o.loc.sqlitePath);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(`CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, status INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL, started_at INTEGER, done_at INTEGER);
             CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (id) WHERE status = 0;`);
    const insert = db.prepare('INSERT INTO jobs (data) VALUES (?)');
    const insertMany = db.transaction((rows: string[]) => {
      for (const r of rows) insert.run(r);
    });
    const claimStmt = db.prepare('UPDATE jobs SET status = 1, started_at = ? WHERE id IN (SELECT id FROM jobs WHERE status = 0 ORDER BY id LIMIT ?) RETURNING id, data');
    const claim = db.transaction((k: number) => claimStmt.all(Date.now(), k) as { id: number; data: string }[]);
    const doneStmt = db.prepare('UPDATE jobs SET status = 2, done_at = ? WHERE id = ?');
    const complete = db.transaction((ids: number[]) => {
      const now = Date.now();
      for (const id of ids) doneStmt.run(now, id);
    });
    const handler = async (data: string) => {
      o.onStart?.((JSON.parse(data) as { n: number }).n);
    };
    let stopping = false;
    let loop: Promise<void> | null = null;
    const perClaim = o.concurrency === 1 ? 1 : 100;
    async function work(): Promise<void> {
      while (!stopping) {
        const jobs = claim(perClaim);
        if (jobs.length === 0) {
          await sleep(5);
          continue;
        }
        for (let i = 0; i < jobs.length; i += o.concurrency) {
          await Promise.all(jobs.slice(i, i + o.concurrency).map((j) => handler(j.data)));
        }
        complete(jobs.map((j) => j.id));
        for (let i = 0; i < jobs.length; i++) o.onComplete?.();
        await new Promise<void>((resolve) => setImmediate(resolve)); // let I/O and timers run
      }
    }
    return {
      async submit(n) {
        insert.run(JSON.stringify(payload(n)));
      },
      async submitMany(from, count) {
        insertMany(Array.from({ length: count }, (_, i) => JSON.stringify(payload(from + i))));
      },
      async start() {
        if (o.worker) loop = work();
      },
      async close() {
        stopping = true;
        await loop;
        db.close();
      },
    };
  },
};
