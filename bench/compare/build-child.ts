/**
 * Compiles child.ts (with the systems and jobwing's working-tree `src/`) to plain JavaScript
 * before a run, so that every measured process runs under plain `node`, as an application
 * runs its build: no TypeScript loader in the child. tsx's loader alone adds ~35 MB of RSS
 * to an empty process and ~50 MB once jobwing is imported, which the peers (shipped as
 * JavaScript) would otherwise not pay for what it compiles.
 *
 * Each system stays its own chunk (code splitting), loaded only by the child that measures
 * it. The peers, better-sqlite3 and pg stay external (loaded from this package's
 * node_modules); jobwing's other dependencies (kysely, zod, …) are bundled from the
 * repository's node_modules, as a user's bundler would.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const EXTERNAL = ['better-sqlite3', 'bullmq', 'graphile-worker', 'pg', 'pg-boss', 'plainjob'];

/** Builds `<here>/.build/child.mjs` and returns its path. */
export async function buildChild(here: string): Promise<string> {
  const outdir = join(here, '.build');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { child: join(here, 'child.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    sourcemap: 'linked',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(); give the ES module one.
    banner: { js: "import { createRequire as __jwcmpRequire } from 'node:module'; const require = __jwcmpRequire(import.meta.url);" },
  });
  return join(outdir, 'child.mjs');
}
