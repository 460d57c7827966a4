/**
 * Qualified, quoted names of one store's objects, and the Kysely query builder bound to its
 * schema. The schema name is validated (`/^[a-z_][a-z0-9_]{0,62}$/`) and still quoted as an
 * identifier everywhere it appears in SQL text; every value is a bound parameter.
 */
import type { Kysely, QueryCreator } from 'kysely';
import type { JobwingDatabase } from '../sql/tables.js';

/** Quotes an SQL identifier (`a"b` → `"a""b"`). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

let builder: Promise<Kysely<JobwingDatabase>> | null = null;

/**
 * Kysely with its Postgres adapter and query compiler, used to build and `.compile()` typed
 * queries; {@link PgConnection} runs them. It cannot execute anything itself (DummyDriver):
 * one execution path keeps transactions, prepared statements, type parsing and connection
 * error handling in one place. Loaded with the driver on first use, not at import: a process
 * that only migrates (or only validates options) never loads Kysely's ~300 modules.
 */
export function loadQueryBuilder(): Promise<Kysely<JobwingDatabase>> {
  builder ??= import('kysely').then(
    ({ DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler }) =>
      new Kysely<JobwingDatabase>({
        dialect: {
          createAdapter: () => new PostgresAdapter(),
          createDriver: () => new DummyDriver(),
          createIntrospector: (db) => new PostgresIntrospector(db),
          createQueryCompiler: () => new PostgresQueryCompiler(),
        },
      }),
  );
  return builder;
}

/** Names of one store's objects, ready to paste into SQL text. */
export interface PgNames {
  /** The schema name as given (unquoted). */
  readonly schemaName: string;
  /** `"schema"` */
  readonly schema: string;
  readonly jobs: string;
  readonly dependencies: string;
  readonly history: string;
  readonly progress: string;
  readonly jobTypeSettings: string;
  readonly jobTypeAudit: string;
  readonly leadership: string;
  readonly migrations: string;
  /** The start log rate limits count (migration 6). */
  readonly rateStarts: string;
  /** Shared sequence of history and progress rows (the event tail's order). */
  readonly eventSeq: string;
  /** The `read_events` function (see `queries-events.ts`). */
  readonly readEventsFn: string;
  /** The `claim_candidates` function (see schema.ts). */
  readonly claimCandidatesFn: string;
  /** The `org_jobs` and `claim_order` functions: the claim plan's walks (schema.ts, migration 7). */
  readonly orgJobsFn: string;
  readonly claimOrderFn: string;
  readonly nextOrgsFn: string;
  /** The `require_transaction` function (see schema.ts). */
  readonly requireTransactionFn: string;
  /** LISTEN/NOTIFY channel of this store: the schema name. */
  readonly channel: string;
  /** Query builder whose tables live in this schema (see {@link withQueryBuilder}). */
  readonly qb: QueryCreator<JobwingDatabase>;
}

/** Names whose `qb` must not be used yet (migrations use plain SQL only). */
export type PgNamesWithoutBuilder = Omit<PgNames, 'qb'>;

/** Names of the objects of the store in `schema`. */
export function pgNames(schema: string): PgNamesWithoutBuilder {
  const s = quoteIdent(schema);
  return Object.freeze({
    schemaName: schema,
    schema: s,
    jobs: `${s}.jobs`,
    dependencies: `${s}.job_dependencies`,
    history: `${s}.job_history`,
    progress: `${s}.job_progress_events`,
    jobTypeSettings: `${s}.job_type_settings`,
    jobTypeAudit: `${s}.job_type_audit`,
    leadership: `${s}.jobwing_leadership`,
    migrations: `${s}.jobwing_migrations`,
    rateStarts: `${s}.rate_limit_starts`,
    eventSeq: `${s}.event_seq`,
    readEventsFn: `${s}.read_events`,
    claimCandidatesFn: `${s}.claim_candidates`,
    requireTransactionFn: `${s}.require_transaction`,
    orgJobsFn: `${s}.org_jobs`,
    claimOrderFn: `${s}.claim_order`,
    nextOrgsFn: `${s}.next_orgs`,
    channel: schema,
  });
}

/** `names` plus the query builder bound to its schema. */
export function withQueryBuilder(names: PgNamesWithoutBuilder, qb: Kysely<JobwingDatabase>): PgNames {
  return Object.freeze({ ...names, qb: qb.withSchema(names.schemaName) });
}

/**
 * The database clock in epoch milliseconds. Lease expiry (claim, renew, findExpiredLeases and
 * the rescuer's `onlyIfLeaseExpired` settle) is judged by this, never by the `now` a Node
 * process passes in, so a process with a skewed clock rescues nothing early (R20).
 * `clock_timestamp()` (not `now()`, the transaction start) so a lease set late in a
 * transaction is not shortened by the transaction's own duration.
 */
export const DB_NOW_MS = `floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;
