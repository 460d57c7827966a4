/** The command line that starts a worker process: a cached esbuild bundle of fixtures/worker.ts and src/. */
import { createHash, randomUUID as uuid } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { dropStaleBundles, listTs, NODE_BUNDLE_OPTIONS } from '../../helpers/script-bundle.js';
import { BUNDLE_DIR, FAULTS_DIR, POSTGRES_MODULE, REPO_ROOT, WORKER_SCRIPT } from './paths.js';

let workerCommand: Promise<string[]> | null = null;

/**
 * The command line of a worker process: `node --import tsx fixtures/worker.ts` when
 * `JOBWING_FAULT_TSX=1` (or the suite-wide `JOBWING_TEST_TSX=1`); by default `node <bundle>.mjs`, where the bundle is the same
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
  if (process.env.JOBWING_FAULT_TSX === '1' || process.env.JOBWING_TEST_TSX === '1') return ['--import', 'tsx', WORKER_SCRIPT];
  const hasPostgres = existsSync(POSTGRES_MODULE);
  const hash = createHash('sha256');
  for (const f of [...listTs(join(REPO_ROOT, 'src')), ...listTs(join(FAULTS_DIR, 'fixtures'))]) hash.update(f).update(readFileSync(f));
  const out = join(BUNDLE_DIR, `worker-${hash.digest('hex').slice(0, 16)}.mjs`);
  if (existsSync(out)) return [out];
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const esbuild = await import('esbuild');
  const tmp = `${out}.${process.pid}.${uuid().slice(0, 8)}.tmp`;
  await esbuild.build({
    stdin: { contents: `import 'jwf:postgres';\nimport ${JSON.stringify(WORKER_SCRIPT)};\n`, resolveDir: REPO_ROOT, loader: 'ts', sourcefile: 'fault-worker-entry.ts' },
    ...NODE_BUNDLE_OPTIONS,
    outfile: tmp,
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
  dropStaleBundles(BUNDLE_DIR, out, /^worker-.*\.mjs$/);
  return [out];
}
