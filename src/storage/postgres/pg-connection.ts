/**
 * The one execution path of the Postgres store: every query (built with Kysely and compiled,
 * or hand-written) runs through {@link PgConnection}, so type parsing, prepared statements,
 * transactions, deadlock retries and broken-connection handling live in one place.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { storeTypeParsers, type PgModule } from './pg-driver.js';

/** SQL text plus its positional (`$1`…) parameters; a Kysely `CompiledQuery` fits. */
export interface SqlQuery {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** Shorthand for a hand-written query. */
export function raw(sql: string, ...parameters: unknown[]): SqlQuery {
  return { sql, parameters };
}

/** How to run one query. */
export interface QueryOptions {
  /**
   * Run as a named prepared statement: parsed and planned once per connection. For the hot
   * paths (claim, settle, heartbeat, progress, events), whose text is fixed per store.
   */
  prepare?: boolean;
}

/** Runs queries inside one transaction. */
export interface PgTx {
  query<R>(q: SqlQuery, options?: QueryOptions): Promise<R[]>;
}

// SQLSTATEs after which the whole transaction can simply run again.
const RETRYABLE_TX = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure
const MAX_TX_ATTEMPTS = 5;

/**
 * True when `err` means the connection to Postgres is gone (server restarted, backend
 * terminated, network down) rather than a problem with the statement.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection is closed|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect/i.test(message);
}

/** A pool plus the store's query conventions. */
export class PgConnection {
  readonly pool: Pool;
  readonly #ownsPool: boolean;
  readonly #types: QueryConfig['types'];
  readonly #names = new Map<string, string>();
  readonly #onPoolError = (): void => {
    // An idle client lost its connection (e.g. Postgres restarted). pg-pool already dropped
    // it; without a listener the 'error' event would crash the process.
  };

  constructor(pg: PgModule, pool: Pool, ownsPool: boolean) {
    this.pool = pool;
    this.#ownsPool = ownsPool;
    this.#types = storeTypeParsers(pg);
    pool.on('error', this.#onPoolError);
  }

  #config(q: SqlQuery, options: QueryOptions | undefined): QueryConfig {
    const config: QueryConfig = { text: q.sql, values: q.parameters as unknown[], types: this.#types };
    if (options?.prepare) {
      let name = this.#names.get(q.sql);
      if (name === undefined) {
        name = `jobwing_${createHash('sha1').update(q.sql).digest('hex').slice(0, 24)}`;
        this.#names.set(q.sql, name);
      }
      config.name = name;
    }
    return config;
  }

  /** Runs one statement on its own (autocommit: the statement is its own transaction). */
  async query<R>(q: SqlQuery, options?: QueryOptions): Promise<R[]> {
    const res = await this.pool.query(this.#config(q, options));
    return res.rows as R[];
  }

  /**
   * Runs `fn` on one pooled client, which is destroyed instead of reused when its connection
   * broke. While checked out, the client's 'error' event (a backend terminated between two
   * queries) is caught here: pg-pool only listens on idle clients.
   *
   * Why the callback form of `pool.connect`: pg-pool removes its own 'error' listener when it
   * hands a client over. With the promise form, our listener could only be added a microtask
   * later, and a backend terminated right after its last ReadyForQuery delivers its FATAL error
   * in that same socket read, synchronously, to a client without any listener, which crashes
   * the process (seen in the R18 test). The callback runs inside the hand-over.
   */
  async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken ??= err;
    };
    const client = await new Promise<PoolClient>((resolve, reject) => {
      this.pool.connect((err, c) => {
        if (err || c === undefined) return reject(err ?? new Error('pg-pool returned no client'));
        c.on('error', onError);
        resolve(c);
      });
    });
    try {
      return await fn(client);
    } catch (err) {
      if (isConnectionError(err)) broken ??= err as Error;
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken ?? false);
    }
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction on one client and commits. A deadlock or
   * serialization failure rolls back and runs `fn` again (every caller computes its writes
   * inside `fn`, so a rerun is the same operation); other errors roll back and are thrown.
   */
  async transaction<T>(fn: (tx: PgTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.withClient(async (client) => {
          const tx: PgTx = {
            query: async <R>(q: SqlQuery, options?: QueryOptions) => (await client.query(this.#config(q, options))).rows as R[],
          };
          await client.query('BEGIN');
          try {
            const result = await fn(tx);
            await client.query('COMMIT');
            return result;
          } catch (err) {
            if (!isConnectionError(err)) await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
        });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (attempt >= MAX_TX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE_TX.has(code)) throw err;
        // Jittered pause so the two sides of a deadlock do not collide again at once.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  /** Detaches from the pool, and ends it if this store created it. Idempotent. */
  async close(): Promise<void> {
    this.pool.removeListener('error', this.#onPoolError);
    if (this.#ownsPool && !(this.pool as Pool & { ending?: boolean }).ending) await this.pool.end();
  }
}
