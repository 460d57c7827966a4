/**
 * Kysely used as a SQL compiler only: queries are built with it and `.compile()`d, then run
 * through better-sqlite3 prepared statements by {@link SqliteConnection}. Kysely's own SQLite
 * driver is not used because it opens deferred transactions (see `SqliteConnection.write`).
 */
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import type { JobwingDatabase } from '../sql/tables.js';

/** Query builder for the SQLite dialect. It cannot execute anything (DummyDriver). */
export const sqliteQb = new Kysely<JobwingDatabase>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});
