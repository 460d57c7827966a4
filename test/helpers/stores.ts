/**
 * The stores an engine-level test runs on: a SQLite file always, Postgres (in a schema of its
 * own, dropped after the file) when JOBWING_TEST_PG_URL is set. Without it the Postgres
 * variants are skipped, and the skip says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { sqliteStorage, type StorageAdapter } from '../../src/index.js';
import { postgresStorage } from '../../src/postgres.js';

export const PG_URL = process.env.JOBWING_TEST_PG_URL || undefined;

/** One store kind: `open()` returns a new adapter on the same data (a second process's view). */
export interface StoreKind {
  name: 'sqlite' | 'postgres';
  /** Empty when the kind runs; otherwise why it is skipped (for the test title). */
  skip: string;
  open(): StorageAdapter;
  /** A fresh, empty database for one test; `open()` then opens that one. */
  fresh(): void;
  /** SQLite: the current file's path. */
  path(): string;
  /** Postgres: the current schema. */
  schema(): string;
}

/** Both store kinds, for `describe.each`-style loops. Registers cleanup with `afterAll`. */
export function storeKinds(): StoreKind[] {
  const dirs: string[] = [];
  const schemas: string[] = [];
  let sqlitePath = '';
  let schema = '';
  const sqlite: StoreKind = {
    name: 'sqlite',
    skip: '',
    fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'jobwing-reg-'));
      dirs.push(dir);
      sqlitePath = join(dir, 'jobs.sqlite');
    },
    open: () => sqliteStorage({ path: sqlitePath, synchronous: 'NORMAL' }),
    path: () => sqlitePath,
    schema: () => '',
  };
  const postgres: StoreKind = {
    name: 'postgres',
    skip: PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)',
    fresh() {
      schema = `jobwing_reg_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
    },
    open: () => postgresStorage({ connectionString: PG_URL!, schema, poolSize: 4 }),
    path: () => '',
    schema: () => schema,
  };
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (PG_URL && schemas.length > 0) {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      } finally {
        await c.end();
      }
    }
  });
  if (!PG_URL) console.warn('[jobwing] Postgres variants of the regression tests SKIPPED: set JOBWING_TEST_PG_URL to run them.');
  return [sqlite, postgres];
}

/** Lets queued macrotasks run `turns` times (no timer): gives a racing path its chance. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A wrapper around a store whose `method` waits at a gate the test opens. */
export function gatedStore<K extends 'settleAndClaim' | 'claimJobs' | 'insertJobs'>(inner: StorageAdapter, method: K) {
  let armed = false;
  let open!: () => void;
  let entered!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  let enteredP = new Promise<void>((r) => (entered = r));
  const original = (inner[method] as (req: unknown) => Promise<unknown>).bind(inner);
  const gated = async (req: unknown) => {
    if (armed) {
      armed = false;
      entered();
      await gate;
    }
    return original(req);
  };
  // A proxy, not Object.create: the stores keep #private fields, which need the real `this`.
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === method) return gated;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    store,
    /** The next call of `method` waits until `release()`. */
    arm() {
      armed = true;
      gate = new Promise<void>((r) => (open = r));
      enteredP = new Promise<void>((r) => (entered = r));
    },
    /** Resolves once a call is waiting at the gate. */
    entered: () => enteredP,
    release: () => open(),
  };
}
