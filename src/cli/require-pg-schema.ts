/**
 * A Postgres store's schema must already exist: opening the store migrates it, and a CLI
 * pointed at a mistyped `--schema` (or database) must fail rather than create an empty
 * jobwing schema and report "no jobs". The SQLite counterpart is the file-exists check.
 */
import { JobwingError } from '../index.js';
import { loadPg } from '../storage/postgres/pg-driver.js';
import { parsePostgresStorageOptions } from '../storage/postgres/pg-options.js';

/** @throws JobwingError naming the schema when it does not exist (or Postgres is unreachable) */
export async function requirePgSchema(connectionString: string, schema: string | undefined, shownAs: string): Promise<void> {
  const resolved = parsePostgresStorageOptions(schema === undefined ? { connectionString } : { connectionString, schema }).schema;
  const pg = await loadPg();
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
    const r = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [resolved]);
    if (r.rowCount === 0) {
      throw new JobwingError('STORAGE', `No schema "${resolved}" in ${shownAs} (give --schema the schema your app's engine uses; default: jobwing)`);
    }
  } catch (e) {
    if (e instanceof JobwingError) throw e;
    throw new JobwingError('STORAGE', `Cannot open ${shownAs}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}
