/**
 * Runs the real `jobwing` binary as a child process and seeds stores for it: a SQLite file,
 * or a Postgres schema of its own dropped after the file. The binary is bundled once per test
 * file with tsup (as `npm run build` bundles it, ~0.2 s): a plain `node` start is several
 * times cheaper than compiling the source through tsx in every child. Its dependencies are
 * bundled in too (only the native/optional drivers stay external): resolving and compiling
 * kysely's and zod's hundreds of ESM files was 0.45 s of every child's 0.5 s start on a slow
 * 2-core machine, bundled it is 0.27 s, and the suite runs ~70 children.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { build } from 'tsup';
import { afterAll } from 'vitest';
import { JobEngine, sqliteStorage, type StorageAdapter } from '../../src/index.js';
import { postgresStorage } from '../../src/postgres.js';
import { drain, FakeClock } from '../../src/testing/index.js';
import { add, broken } from '../helpers/fixtures.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Inside node_modules, so the bundle resolves its dependencies (commander, kysely, …) as installed.
const cacheDir = join(root, 'node_modules', '.cache', 'jobwing-cli-test');
let binary: Promise<string> | null = null;

/** The bundled binary, built on first use, removed after the file. */
function bin(): Promise<string> {
  binary ??= (async () => {
    mkdirSync(cacheDir, { recursive: true });
    const outDir = mkdtempSync(join(cacheDir, 'bin-'));
    afterAll(() => rmSync(outDir, { recursive: true, force: true }));
    await build({
      entry: { index: join(root, 'src/cli/index.ts') },
      outDir,
      format: ['esm'],
      target: 'node20',
      external: ['pg', 'better-sqlite3'],
      noExternal: [/^(?!pg$|better-sqlite3$)/],
      // commander is CommonJS: its require('events') needs a real require inside an ES module.
      banner: { js: "import { createRequire as __jobwingRequire } from 'node:module'; const require = __jobwingRequire(import.meta.url);" },
      config: false,
      dts: false,
      sourcemap: false,
      clean: false,
      silent: true,
    });
    return join(outDir, 'index.js');
  })();
  return binary;
}

/** What one run of the binary did. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `jobwing ...args`. The child must end on its own: a hang (an engine that does not stop
 * cleanly) is killed after `timeoutMs` and shows up as `signal`, failing the exit-code check.
 */
export async function jobwing(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliRun> {
  const file = await bin();
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...options.env };
    if (!options.env?.JOBWING_DB) delete env.JOBWING_DB;
    const child = spawn(process.execPath, [file, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
      timeout: options.timeoutMs ?? 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A long-running `jobwing` (the dashboard): its first stdout line, then stop it with a signal. */
export interface CliProcess {
  /** Resolves with the first stdout line matching `pattern` (rejects if the process ends first). */
  line(pattern: RegExp): Promise<string>;
  /** Sends `signal` and resolves with the run once the process has ended. */
  stop(signal?: NodeJS.Signals): Promise<CliRun>;
}

/** Starts `jobwing ...args` and leaves it running. */
export async function startJobwing(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<CliProcess> {
  const file = await bin();
  const env = { ...process.env };
  delete env.JOBWING_DB;
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env, timeout: options.timeoutMs ?? 20_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ended = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    line(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = stdout.split('\n').find((l) => pattern.test(l));
          if (hit === undefined) return false;
          child.stdout.off('data', check);
          resolve(hit);
          return true;
        };
        if (check()) return;
        child.stdout.on('data', check);
        void ended.then((r) => reject(new Error(`jobwing ended (exit ${r.code}) before printing ${pattern}:\n${r.stdout}\n${r.stderr}`)));
      });
    },
    stop(signal = 'SIGTERM') {
      child.kill(signal);
      return ended;
    },
  };
}

/** A store the binary is pointed at, with `--db` (and `--schema`) flags to reach it. */
export interface SeededStore {
  flags: string[];
  ids: { completed: string; deadLetter: string; scheduled: string };
  destroy(): Promise<void>;
}

/**
 * Three jobs, run on a fake clock at 2026-01-01: `add` of org acme completed, `broken` of
 * org globex dead_letter, `add` of org acme scheduled five years later (so no maintenance
 * promotes it while the tests run on the real clock).
 */
async function seed(storage: StorageAdapter): Promise<SeededStore['ids']> {
  const engine = new JobEngine({ jobTypes: [add, broken], storage, clock: new FakeClock() });
  await engine.start();
  try {
    const completed = await engine.system.submit('add', { a: 1, b: 2 }, { orgId: 'acme' });
    const deadLetter = await engine.system.submit('broken', {}, { orgId: 'globex' });
    await drain(engine);
    const scheduled = await engine.system.submit('add', { a: 3, b: 4 }, { orgId: 'acme', delayMs: 5 * 365 * 86_400_000 });
    return { completed: completed.id, deadLetter: deadLetter.id, scheduled: scheduled.id };
  } finally {
    await engine.stop({ graceMs: 0 });
  }
}

/** A seeded SQLite file. */
export async function seededSqlite(): Promise<SeededStore> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-cli-'));
  const path = join(dir, 'jobs.sqlite');
  const ids = await seed(sqliteStorage({ path, synchronous: 'NORMAL' }));
  return { flags: ['--db', path], ids, destroy: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** A seeded Postgres schema of its own in the database at `url`. */
export async function seededPostgres(url: string): Promise<SeededStore> {
  const schema = `jobwing_cli_${randomBytes(5).toString('hex')}`;
  const ids = await seed(postgresStorage({ connectionString: url, schema, poolSize: 2 }));
  return {
    flags: ['--db', url, '--schema', schema],
    ids,
    async destroy() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The JSON a `--json` run printed (fails loudly with the output when it is not JSON). */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  }
}
