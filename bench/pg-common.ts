/** What the Postgres benchmark parent and its worker processes share. */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StorageAdapter } from '../src/index.js';

/**
 * The Postgres store module: `src/postgres.ts` (published as `jobwing/postgres`), or the file
 * named by JOBWING_BENCH_PG_MODULE (e.g. the build, `dist/postgres/index.js`).
 */
export const POSTGRES_MODULE = process.env.JOBWING_BENCH_PG_MODULE
  ? resolve(process.env.JOBWING_BENCH_PG_MODULE)
  : fileURLToPath(new URL('../src/postgres.ts', import.meta.url));

/** `postgresStorage` as the API contract describes it. */
export type PostgresStorageFactory = (options: { connectionString: string; schema: string }) => StorageAdapter;

/**
 * Loads `postgresStorage`, or returns why it cannot. Imported dynamically so the SQLite
 * benchmarks (and the type-check) work while the Postgres store does not exist yet.
 */
export async function loadPostgresStorage(): Promise<PostgresStorageFactory | string> {
  if (!existsSync(POSTGRES_MODULE)) {
    return `Postgres store not available yet: ${POSTGRES_MODULE} does not exist. \`npm run bench\` (SQLite) works today.`;
  }
  const mod = (await import(pathToFileURL(POSTGRES_MODULE).href)) as { postgresStorage?: unknown };
  if (typeof mod.postgresStorage !== 'function') return `Postgres store not available yet: ${POSTGRES_MODULE} does not export postgresStorage().`;
  return mod.postgresStorage as PostgresStorageFactory;
}

/** The database URL: JOBWING_BENCH_PG_URL, then JOBWING_TEST_PG_URL, then the local default. */
export function benchPgUrl(): string {
  return process.env.JOBWING_BENCH_PG_URL || process.env.JOBWING_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

/** Runs `fn` on a client of its own, closed afterwards (pg is loaded only when a bench uses Postgres). */
export async function withPgClient<T>(url: string, fn: (c: import('pg').Client) => Promise<T>): Promise<T> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops a bench's schema and everything in it. */
export async function dropPgSchema(url: string, schema: string): Promise<void> {
  await withPgClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** A fresh schema name for one measurement, and how to drop it afterwards. */
export function scratchPgSchema(prefix: string, url = benchPgUrl()): { url: string; schema: string; drop: () => Promise<void> } {
  const schema = `${prefix}_${randomUUID().slice(0, 8)}`;
  return { url, schema, drop: () => dropPgSchema(url, schema) };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** Messages from a worker process to the parent (over the IPC channel). */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'start'; n: number; jobId: string; t: string }
  /** drain: the first handler run of this process (process.hrtime.bigint()). */
  | { type: 'first'; t: string }
  | { type: 'stopped'; runs: number; errors: string[]; trace?: string; cpuMs: number }
  | { type: 'failed'; error: string };

/** Messages from the parent to a worker process. */
export type ParentMessage = { type: 'go' } | { type: 'stop' };
