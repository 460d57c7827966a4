/** Options of `postgresStorage`, validated with zod at the boundary. */
import type { Pool } from 'pg';
import { z } from 'zod';
import { zodValidationError } from '../../validation.js';

/** Options of {@link postgresStorage}. Give exactly one of `connectionString` and `pool`. */
export interface PostgresStorageOptions {
  /**
   * A Postgres connection URL, e.g. `postgres://user:pass@db:5432/app`. jobwing creates (and,
   * on `close()`, ends) a `pg.Pool` from it. Give this or `pool`.
   */
  connectionString?: string;
  /**
   * A `pg.Pool` you created and own: jobwing uses it and never ends it. Give this or
   * `connectionString`.
   */
  pool?: Pool;
  /**
   * Schema that holds jobwing's tables, created by `migrate()` when missing. Lowercase letters,
   * digits and `_`, not starting with a digit or `pg_`, at most 63 characters. Several stores
   * with different schemas can share one database. (Default: 'jobwing')
   */
  schema?: string;
  /**
   * Connections of the pool jobwing creates from `connectionString` (not allowed with `pool`).
   * One more connection, outside the pool, LISTENs for wake-ups. (Default: 10)
   */
  poolSize?: number;
  /**
   * Connection URL of the dedicated LISTEN connection. LISTEN needs a session that stays open:
   * behind PgBouncer in transaction mode, point this at Postgres directly (or at a
   * session-mode pool). (Default: `connectionString`, or the settings of `pool`)
   */
  listenConnectionString?: string;
}

/** Options with defaults applied. */
export interface ResolvedPostgresStorageOptions {
  connectionString: string | null;
  pool: Pool | null;
  schema: string;
  poolSize: number;
  listenConnectionString: string | null;
}

/** Valid schema names: a plain lowercase identifier, so it never needs case folding. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DEFAULT_POOL_SIZE = 10;

const url = z.string().min(1, 'must be a non-empty connection string');

const schema = z
  .strictObject({
    connectionString: url.optional(),
    pool: z
      .custom<Pool>(
        (p) => typeof p === 'object' && p !== null && typeof (p as Pool).connect === 'function' && typeof (p as Pool).query === 'function',
        'must be a pg.Pool',
      )
      .optional(),
    schema: z
      .string()
      .regex(SCHEMA_NAME, 'must match /^[a-z_][a-z0-9_]{0,62}$/ (lowercase letters, digits and _, at most 63 characters)')
      .refine((s) => !s.startsWith('pg_'), 'must not start with pg_ (reserved by Postgres)')
      .default('jobwing'),
    poolSize: z.number().int().min(1).max(1000).optional(),
    listenConnectionString: url.optional(),
  })
  .superRefine((o, ctx) => {
    if ((o.connectionString === undefined) === (o.pool === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['connectionString'], message: 'give exactly one of connectionString and pool' });
    }
    if (o.pool !== undefined && o.poolSize !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['poolSize'], message: 'only applies to the pool created from connectionString; size your own pool yourself' });
    }
  });

/**
 * Applies defaults and validates.
 * @throws ValidationError whose message and `issues` name each bad option.
 */
export function parsePostgresStorageOptions(options: unknown): ResolvedPostgresStorageOptions {
  const parsed = schema.safeParse(options ?? {});
  if (parsed.success) {
    const o = parsed.data;
    return {
      connectionString: o.connectionString ?? null,
      pool: o.pool ?? null,
      schema: o.schema,
      poolSize: o.poolSize ?? DEFAULT_POOL_SIZE,
      listenConnectionString: o.listenConnectionString ?? null,
    };
  }
  throw zodValidationError('postgresStorage options', parsed.error);
}
