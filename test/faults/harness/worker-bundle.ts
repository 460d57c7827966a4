/** The command line that starts a worker process: a cached esbuild bundle of fixtures/worker.ts and src/. */
import { createHash, randomUUID as uuid } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_DIR, FAULTS_DIR, POSTGRES_MODULE, REPO_ROOT, WORKER_SCRIPT } from './paths.js';

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

let workerCommand: Promise<string[]> | null = null;

/**
 * The command line of a worker process: `node --import tsx fixtures/worker.ts` when
 * `JOBWING_FAULT_TSX=1`; by default `node <bundle>.mjs`, where the bundle is the same
 * worker.ts and src/ compiled once by esbuild (the same compiler tsx uses), cached by content
 * hash. Why: on a 2-core machine tsx's module hooks make every worker start take 2–5 s
 * (kysely's hundreds of modules each go through them); the bundle starts in under 1 s, which
 * is what keeps the fault suite inside its time budget.
 */
export function workerArgs(): Promise<string[]> {
  workerCommand ??= buildWorkerBundle().catch((err: unknown) => {
    console.error(`[faults] bundling the worker failed, falling back to tsx: ${(err as Error).message}`);
    return ['--import', 'tsx', WORKER_SCRIPT];
  });
  return workerCommand;
}

async function buildWorkerBundle(): Promise<string[]> {
  if (process.env.JOBWING_FAULT_TSX === '1') return ['--import', 'tsx', WORKER_SCRIPT];
  const hasPostgres = existsSync(POSTGRES_MODULE);
  const hash = createHash('sha256');
  for (const f of [...listFiles(join(REPO_ROOT, 'src')), ...listFiles(join(FAULTS_DIR, 'fixtures'))]) hash.update(f).update(readFileSync(f));
  const out = join(BUNDLE_DIR, `worker-${hash.digest('hex').slice(0, 16)}.mjs`);
  if (existsSync(out)) return [out];
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const esbuild = await import('esbuild');
  const tmp = `${out}.${process.pid}.${uuid().slice(0, 8)}.tmp`;
  await esbuild.build({
    stdin: { contents: `import 'jwf:postgres';\nimport ${JSON.stringify(WORKER_SCRIPT)};\n`, resolveDir: REPO_ROOT, loader: 'ts', sourcefile: 'fault-worker-entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: tmp,
    // Less to parse at every worker start (identifiers kept, so stack traces stay readable).
    minifyWhitespace: true,
    minifySyntax: true,
    // Native or optional: loaded from node_modules at run time.
    external: ['better-sqlite3', 'pg', 'pg-native'],
    banner: { js: `import { createRequire as __jwfCreateRequire } from 'node:module'; const require = __jwfCreateRequire(import.meta.url);` },
    logLevel: 'silent',
    // package.json says sideEffects: false, which would drop the entry's bare imports.
    ignoreAnnotations: true,
    plugins: [
      {
        // Registers the Postgres store (when src/postgres.ts exists) before worker.ts runs.
        name: 'jwf-postgres',
        setup(b) {
          b.onResolve({ filter: /^jwf:postgres$/ }, () => ({ path: 'postgres', namespace: 'jwf' }));
          b.onLoad({ filter: /.*/, namespace: 'jwf' }, () => ({
            contents: hasPostgres ? `import * as m from ${JSON.stringify(POSTGRES_MODULE)};\n(globalThis as any).__jobwingFaultPostgres = m;\n` : 'export {};\n',
            resolveDir: REPO_ROOT,
            loader: 'ts',
          }));
        },
      },
    ],
  });
  renameSync(tmp, out);
  // Bundles of older sources pile up as src/ changes; drop those unused for an hour.
  for (const f of readdirSync(BUNDLE_DIR)) {
    const p = join(BUNDLE_DIR, f);
    if (p !== out && /^worker-.*\.mjs$/.test(f) && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { force: true });
  }
  return [out];
}
