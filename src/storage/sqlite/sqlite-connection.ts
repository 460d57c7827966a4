/**
 * One better-sqlite3 connection with jobwing's pragmas, a prepared-statement cache keyed by
 * SQL text, and the two transaction kinds the store uses.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ValidationError } from '../../errors.js';

/** SQL text plus its positional parameters (a Kysely `CompiledQuery` fits). */
export interface SqlQuery {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** Resolved connection settings. */
export interface SqliteConnectionSettings {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
}

/** The WAL is truncated back to this size after checkpoints, so it stays bounded (R17). */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** Distinct SQL texts kept prepared; queries with variable IN-lists could otherwise grow it. */
const STATEMENT_CACHE_SIZE = 500;

/** A synchronous SQLite connection. Nothing here is async: a transaction never awaits. */
export class SqliteConnection {
  readonly db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #tx: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(settings: SqliteConnectionSettings) {
    if (settings.path !== ':memory:') {
      const dir = dirname(resolve(settings.path));
      if (!existsSync(dir)) {
        throw new ValidationError(`sqliteStorage: the directory of path "${settings.path}" does not exist (${dir}); create it first`, [
          { path: ['path'], message: `directory ${dir} does not exist` },
        ]);
      }
    }
    this.db = new Database(settings.path, { timeout: settings.busyTimeoutMs });
    try {
      // busy_timeout first, so that switching to WAL waits for other processes opening the file.
      this.db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${settings.synchronous}`);
      this.db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      // A statement that writes several rows or fires a trigger (the job_counts triggers: every
      // insert and status change) keeps a statement journal, a copy of each page it dirties;
      // in a temp FILE that copy cost more than the insert itself (86 → 39 µs per submitted
      // job, 10,000 jobs in batches of 100, NORMAL; bench/README.md "Profiling").
      this.db.pragma('temp_store = MEMORY');
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.#tx = this.db.transaction((fn: () => unknown) => fn());
  }

  /** The cached prepared statement of `sql`. */
  prepare(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next();
        if (!oldest.done) this.#statements.delete(oldest.value);
      }
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Every row of a query. */
  all<R>(q: SqlQuery): R[] {
    return this.prepare(q.sql).all(...q.parameters) as R[];
  }

  /** The first row of a query, or undefined. */
  get<R>(q: SqlQuery): R | undefined {
    return this.prepare(q.sql).get(...q.parameters) as R | undefined;
  }

  /** Runs a write; returns the number of rows changed. */
  run(q: SqlQuery): number {
    return this.prepare(q.sql).run(...q.parameters).changes;
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction. Why immediate: a deferred transaction that
   * reads and then writes fails with SQLITE_BUSY at once (busy_timeout does not help) when
   * another process committed in between; taking the write lock first makes it wait instead.
   */
  write<T>(fn: () => T): T {
    return this.#tx.immediate(fn) as T;
  }

  /** Runs read-only `fn` in a deferred transaction: one consistent snapshot, no write lock. */
  read<T>(fn: () => T): T {
    return this.#tx.deferred(fn) as T;
  }

  /** `PRAGMA data_version`: changes only when ANOTHER connection commits. */
  dataVersion(): number {
    return this.prepare('PRAGMA data_version').pluck().get() as number;
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    this.#statements.clear();
    if (this.db.open) this.db.close();
  }
}

/** Shorthand for a hand-written query. */
export function raw(sql: string, ...parameters: unknown[]): SqlQuery {
  return { sql, parameters };
}
