/** Options of `sqliteStorage`, validated with zod at the boundary. */
import { z } from 'zod';
import { zodValidationError } from '../../validation.js';

/** Options of {@link sqliteStorage}. */
export interface SqliteStorageOptions {
  /**
   * Database file. Its directory must exist. `':memory:'` gives a private in-process database
   * (no multi-process sharing). (Default: 'jobwing.sqlite')
   */
  path?: string;
  /**
   * `FULL`: every commit is durable on power loss (an acknowledged submit, settle or
   * checkpoint survives). `NORMAL`: faster; in WAL mode a power loss (not a process crash)
   * may roll back the last commits, never corrupt the file. (Default: 'FULL')
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long a write waits for another process's write lock before failing. (Default: 5000) */
  busyTimeoutMs?: number;
  /**
   * Watch the database's `-wal` file so that another process's commit (a submit from a
   * `worker: false` web process, an event) wakes this store's engine at once instead of at its
   * next poll. Best effort: where the file system gives no change notices (network mounts,
   * some container bind mounts) engines poll every `pollIntervalMs` as with `false`.
   * Ignored for `':memory:'`. (Default: true)
   */
  watchWal?: boolean;
}

/** Options with defaults applied. */
export type ResolvedSqliteStorageOptions = Required<SqliteStorageOptions>;

const schema = z.strictObject({
  path: z.string().min(1, 'must be a non-empty string').default('jobwing.sqlite'),
  synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
  busyTimeoutMs: z.number().int().min(0).max(2_147_483_647).default(5000),
  watchWal: z.boolean().default(true),
});

/**
 * Applies defaults and validates.
 * @throws ValidationError whose message and `issues` name each bad option.
 */
export function parseSqliteStorageOptions(options: unknown): ResolvedSqliteStorageOptions {
  const parsed = schema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  throw zodValidationError('sqliteStorage options', parsed.error);
}
