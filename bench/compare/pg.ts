/** Postgres helpers of the bench: reachability and the per-measurement schema. */
import pg from 'pg';

/** Drops a schema this bench owns (names always start with `jwcmp_`). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^jwcmp_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to drop schema "${schema}": not a bench schema`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** null when Postgres answers, else why not. */
export async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `Postgres unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}
