/**
 * `jobwing/postgres`: the PostgreSQL store, for many worker processes on many hosts.
 * Needs the `pg` package (an optional peer dependency of jobwing): `npm install pg`.
 *
 * @example
 * ```ts
 * import { JobEngine } from 'jobwing';
 * import { postgresStorage } from 'jobwing/postgres';
 *
 * const engine = new JobEngine({
 *   jobTypes: [sendReport],
 *   storage: postgresStorage({ connectionString: 'postgres://app@db:5432/app' }),
 * });
 * ```
 * @packageDocumentation
 */
export {
  postgresStorage,
  type ListenerStatus,
  type PostgresStorageAdapter,
  type PostgresStorageOptions,
} from './storage/postgres/postgres-storage.js';
