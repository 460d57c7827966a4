/**
 * Store setup: a fresh store per cluster (a SQLite file in a temp dir, or a Postgres schema of
 * its own), migrated, with an observer adapter for reads and a raw connection for what the
 * seam does not expose (leases, locks, backends, integrity).
 */
import { randomUUID as uuid } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { sqliteStorage, type JobStatus, type StorageAdapter } from '../../../src/index.js';
import type { StoreSpec } from '../fixtures/worker-config.js';
import { POSTGRES_MODULE } from './paths.js';

/** `JOBWING_TEST_PG_URL`, or undefined: Postgres variants skip visibly without it. */
export const PG_URL = process.env.JOBWING_TEST_PG_URL || undefined;
/** Why the Postgres variants skip (title suffix), or null when they run. */
export const PG_SKIP_REASON: string | null = !PG_URL
  ? '(skipped: set JOBWING_TEST_PG_URL to run the Postgres variant)'
  : !existsSync(POSTGRES_MODULE)
    ? '(skipped: src/postgres.ts, the Postgres store, does not exist yet)'
    : null;

export type StoreKind = 'sqlite' | 'postgres';
export const TERMINAL: readonly JobStatus[] = ['completed', 'canceled', 'dead_letter'];
export const LIVE: JobStatus[] = ['waiting', 'scheduled', 'queued', 'running', 'retrying'];

interface PostgresModule {
  postgresStorage(options: { connectionString: string; schema: string }): StorageAdapter;
}

/** Loads `src/postgres.ts` (built by another engineer) without a static import. */
export async function loadPostgresModule(): Promise<PostgresModule> {
  if (!existsSync(POSTGRES_MODULE)) throw new Error(`Postgres store not available yet: ${POSTGRES_MODULE} does not exist`);
  return (await import(/* @vite-ignore */ POSTGRES_MODULE)) as PostgresModule;
}

/** What {@link openStore} needs to know. */
export interface StoreOptions {
  store: StoreKind;
  /** Names the temp dir / Postgres schema. */
  name: string;
  busyTimeoutMs?: number;
  synchronous?: 'FULL' | 'NORMAL';
}

/** A fresh temp dir and store (as workers open it), migrated, and an observer adapter on it. */
export async function openStore(o: StoreOptions): Promise<{ dir: string; spec: StoreSpec; observer: StorageAdapter }> {
  const dir = mkdtempSync(join(tmpdir(), `jobwing-faults-${o.name}-`));
  let spec: StoreSpec;
  let observer: StorageAdapter;
  if (o.store === 'sqlite') {
    spec = { kind: 'sqlite', path: join(dir, 'jobs.sqlite'), ...(o.busyTimeoutMs !== undefined ? { busyTimeoutMs: o.busyTimeoutMs } : {}), ...(o.synchronous ? { synchronous: o.synchronous } : {}) };
    observer = sqliteStorage({ path: spec.path });
  } else {
    if (!PG_URL) throw new Error('JOBWING_TEST_PG_URL is not set');
    const schema = `jwf_${o.name}_${uuid().slice(0, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
    spec = { kind: 'postgres', url: PG_URL, schema };
    observer = (await loadPostgresModule()).postgresStorage({ connectionString: PG_URL, schema });
  }
  await observer.migrate();
  return { dir, spec, observer };
}

/** The harness's own raw connection: a read-only SQLite handle, or a Postgres admin client. */
export async function openRawConnection(spec: StoreSpec): Promise<{ sqliteReader: Database.Database | null; pgAdmin: pg.Client | null }> {
  if (spec.kind === 'sqlite') return { sqliteReader: new Database(spec.path, { readonly: true, timeout: 5000 }), pgAdmin: null };
  const pgAdmin = new pg.Client({ connectionString: spec.url, application_name: 'jobwing-fault-harness' });
  pgAdmin.on('error', () => undefined);
  await pgAdmin.connect();
  return { sqliteReader: null, pgAdmin };
}

/** SQLite: `PRAGMA integrity_check` of the file at `path` (from a fresh connection). */
export function integrityCheck(path: string): string {
  const db = new Database(path, { readonly: true, timeout: 5000 });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}
