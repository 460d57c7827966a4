/**
 * Loads the `pg` driver on first use. `pg` is an optional peer dependency: it is imported
 * dynamically, only here and only when a Postgres store is used, so SQLite users never need it.
 */
import type pgTypes from 'pg';
import { JobwingError } from '../../errors.js';

/** The parts of the `pg` module the store uses. */
export type PgModule = Pick<typeof pgTypes, 'Pool' | 'Client' | 'types'>;

let loading: Promise<PgModule> | null = null;

/**
 * The `pg` module.
 * @throws JobwingError (`STORAGE`) saying how to install it when it is missing
 */
export function loadPg(): Promise<PgModule> {
  loading ??= import('pg').then(
    (m) => ((m as { default?: PgModule }).default ?? (m as unknown as PgModule)),
    (err: unknown) => {
      loading = null;
      throw new JobwingError('STORAGE', 'jobwing/postgres needs the "pg" package: npm install pg', { cause: err });
    },
  );
  return loading;
}

// Type OIDs (pg_type.oid) whose parsing the store overrides.
const INT8 = 20;
const JSON_OID = 114;
const JSONB = 3802;

/**
 * Per-query type parsers (passed as `types` on every query, so a pool you share with your
 * own code keeps its global parsers): `bigint` columns (epoch-ms instants, sequence numbers,
 * counts) become numbers, exact below 2^53; `json`/`jsonb` stay text, for the shared row
 * mapping in `sql/job-row.ts` parses payloads itself.
 */
export function storeTypeParsers(pg: PgModule): pgTypes.CustomTypesConfig {
  const toNumber = (v: string) => Number(v);
  const asText = (v: string) => v;
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
      if (oid === INT8) return toNumber;
      if (oid === JSON_OID || oid === JSONB) return asText;
      return pg.types.getTypeParser(oid, format);
    }) as pgTypes.CustomTypesConfig['getTypeParser'],
  };
}
