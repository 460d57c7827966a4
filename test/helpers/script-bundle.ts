/**
 * The node arguments that run a TypeScript fixture script in a child process: a cached esbuild
 * bundle of the script and everything it imports from src/ and test/ (`[bundle.mjs]`), or
 * `['--import', 'tsx', script]` when `JOBWING_TEST_TSX=1` or bundling fails.
 *
 * Why: under tsx every child compiles kysely's and zod's hundreds of modules through its
 * hooks, 1–3 s of CPU per start on a 2-core machine; a bundle starts in a fraction of that.
 * The R19 test alone starts 20 children at once. (The fault harness's bundler,
 * test/faults/harness/worker-bundle.ts, uses the same options and also wires in the Postgres
 * store; `JOBWING_TEST_TSX=1` sends its workers through tsx too.)
 *
 * Synchronous (esbuild's buildSync), so a child can be spawned from a constructor. Bundles are
 * keyed by a hash of every .ts file under src/ and test/, written to a temporary name and
 * renamed, so concurrent test files never see half a bundle.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BUNDLE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'jobwing-test-scripts');

/** Every .ts file under `dir`, sorted (what a bundle's cache key hashes). */
export function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(p));
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

let sourceHash: string | null = null;
const memo = new Map<string, string[]>();

function hashOfSources(): string {
  if (sourceHash === null) {
    const h = createHash('sha256');
    for (const f of [...listTs(join(REPO_ROOT, 'src')), ...listTs(join(REPO_ROOT, 'test'))]) h.update(f).update(readFileSync(f));
    sourceHash = h.digest('hex').slice(0, 16);
  }
  return sourceHash;
}

/** `node` arguments (before the script's own) that run `script` (an absolute .ts path). */
export function scriptArgs(script: string): string[] {
  if (process.env.JOBWING_TEST_TSX === '1') return ['--import', 'tsx', script];
  let args = memo.get(script);
  if (args === undefined) {
    try {
      args = [bundle(script)];
    } catch (err) {
      console.error(`[jobwing tests] bundling ${script} failed, running it under tsx: ${(err as Error).message}`);
      args = ['--import', 'tsx', script];
    }
    memo.set(script, args);
  }
  return args;
}

function bundle(script: string): string {
  const key = createHash('sha256').update(script).update(hashOfSources()).digest('hex').slice(0, 16);
  const out = join(BUNDLE_DIR, `${basename(script, '.ts')}-${key}.mjs`);
  if (existsSync(out)) return out;
  mkdirSync(BUNDLE_DIR, { recursive: true });
  // esbuild is tsx's compiler (and tsup's), so it is installed whenever the tests can run.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const tmp = `${out}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  esbuild.buildSync({ ...NODE_BUNDLE_OPTIONS, entryPoints: [script], outfile: tmp });
  renameSync(tmp, out);
  dropStaleBundles(BUNDLE_DIR, out, /\.mjs$/);
  return out;
}

/** esbuild options of every test bundle: one ES module for Node 20 with its dependencies inside. */
export const NODE_BUNDLE_OPTIONS: import('esbuild').BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Less to parse at every start (identifiers kept, so stack traces stay readable).
  minifyWhitespace: true,
  minifySyntax: true,
  // Native or optional: loaded from node_modules at run time.
  external: ['better-sqlite3', 'pg', 'pg-native'],
  // CommonJS dependencies bundled into an ES module still call require().
  banner: { js: `import { createRequire as __jwtCreateRequire } from 'node:module'; const require = __jwtCreateRequire(import.meta.url);` },
  // package.json says sideEffects: false, which would let esbuild drop imports run for effect.
  ignoreAnnotations: true,
  logLevel: 'silent',
};

/** Bundles of older sources pile up as the code changes: drops those in `dir` matching `name`, other than `keep`, unused for an hour. */
export function dropStaleBundles(dir: string, keep: string, name: RegExp): void {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (p !== keep && name.test(f) && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { force: true });
  }
}
