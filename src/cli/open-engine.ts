/**
 * Opens the store named by `--db` under an engine that only reads and acts as told: it runs
 * no handlers (`worker: false`) and its retention is pushed past any real job's age, so a
 * `jobwing list` never prunes anything behind the operator's back.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { JobEngine, JobwingError, sqliteStorage, ValidationError, type AnyJobType, type JobClient, type StorageAdapter } from '../index.js';
import { postgresStorage } from '../postgres.js';
import { UsageError, type CliIo } from './cli-errors.js';
import { requirePgSchema } from './require-pg-schema.js';

/** The flags every command takes to find its store. */
export interface StoreFlags {
  db: string;
  schema?: string;
}

// 100 years: the engine prunes finished jobs older than this daily; nothing is that old.
const NO_PRUNING_MS = 100 * 365 * 86_400_000;
const POSTGRES_URL = /^postgres(ql)?:\/\//i;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** `--db` with any password replaced, for messages. */
export function describeDb(db: string): string {
  return URL_SCHEME.test(db) ? db.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@') : resolve(db);
}

/**
 * The store `--db` names: a Postgres URL whose schema exists, or an existing SQLite file
 * (neither is ever created: a typo must not leave an empty database behind).
 * @throws UsageError for flags that do not fit; JobwingError when there is no such store
 */
export async function openStorage(flags: StoreFlags): Promise<StorageAdapter> {
  const { db, schema } = flags;
  if (POSTGRES_URL.test(db)) {
    let storage: StorageAdapter;
    try {
      storage = postgresStorage(schema === undefined ? { connectionString: db } : { connectionString: db, schema });
    } catch (e) {
      if (e instanceof ValidationError) throw new UsageError(`--db/--schema: ${e.message}`);
      throw e;
    }
    await requirePgSchema(db, schema, describeDb(db));
    return storage;
  }
  if (URL_SCHEME.test(db)) throw new UsageError(`--db ${JSON.stringify(describeDb(db))}: only postgres:// URLs and SQLite file paths are supported`);
  if (schema !== undefined) throw new UsageError('--schema applies to a Postgres URL only, not to a SQLite file');
  const path = resolve(db);
  if (!existsSync(path)) throw new JobwingError('STORAGE', `No SQLite database at ${path} (give --db the file your app's engine uses, or a postgres:// URL)`);
  if (!statSync(path).isFile()) throw new JobwingError('STORAGE', `--db ${path} is not a file`);
  return sqliteStorage({ path });
}

/** Engine options of a CLI process: see the module comment. */
export function cliEngine(storage: StorageAdapter, options: { leaseMs?: number } = {}): JobEngine {
  const jobTypes: AnyJobType[] = [];
  return new JobEngine({ jobTypes, storage, worker: false, retention: { maxAgeMs: NO_PRUNING_MS }, ...options });
}

/**
 * Runs `fn` with the admin client `system` on a started engine, and always stops the engine
 * (closing the store) afterwards, so the process exits on its own.
 */
export async function withSystemClient<R>(flags: StoreFlags, io: CliIo, fn: (client: JobClient) => Promise<R>): Promise<R> {
  // A short leadership lease: if this process happens to become the maintenance leader, the
  // lease it leaves behind on exit expires within a second (stop() does not release it).
  const engine = cliEngine(await openStorage(flags), { leaseMs: 1_000 });
  engine.on('engine:error', ({ error, source }) => io.stderr.write(`warning: ${source}: ${(error as Error)?.message ?? String(error)}\n`));
  try {
    try {
      await engine.start();
    } catch (e) {
      throw new JobwingError('STORAGE', `Cannot open ${describeDb(flags.db)}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    return await fn(engine.system);
  } finally {
    // A failure to close must not hide the command's own result or error.
    await engine.stop({ graceMs: 0 }).catch((e: unknown) => io.stderr.write(`warning: closing the store: ${(e as Error)?.message ?? String(e)}\n`));
  }
}
