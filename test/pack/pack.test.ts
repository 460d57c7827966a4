/**
 * The package as users get it: `npm pack` ships only what users need, and a scratch app in a
 * temp dir outside the repo installs the tarball and completes a job with a web process
 * (worker: false) and a worker process, in ESM and in CJS.
 *
 * Fast path: the build is reused when dist/ is newer than every input of the build (CI has
 * just built it); the install skips install scripts and reuses this checkout's compiled
 * better-sqlite3 binary (same pinned version), so no native build runs here. `.ci/pack-check`
 * does the full install (scripts, native build) of the tarball and of the git checkout.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const versionOf = (name: string) => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;

/** Newest (or oldest) modification time of the files under `path` (a file or a folder). */
function mtimes(path: string, pick: (a: number, b: number) => number): number {
  if (!statSync(path).isDirectory()) return statSync(path).mtimeMs;
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => statSync(join(e.parentPath, e.name)).mtimeMs)
    .reduce((a, b) => pick(a, b));
}

/**
 * True when dist/ was built after the last change to anything the build reads: CI runs
 * `npm run build` just before `npm test`, and a second build here cost 36 s of the suite.
 */
function distIsFresh(): boolean {
  const dist = join(repo, 'dist');
  if (!existsSync(join(dist, 'index.js')) || !existsSync(join(dist, 'cli', 'index.js'))) return false;
  const inputs = ['src', 'package.json', 'tsup.config.ts', 'tsconfig.json'].map((f) => mtimes(join(repo, f), Math.max));
  return mtimes(dist, Math.min) > Math.max(...inputs);
}

let work: string;
let files: string[];
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'jobwing-pack-'));
  if (!distIsFresh()) await run('npm', ['run', 'build'], { cwd: repo });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: repo });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info!.filename);
  files = info!.files.map((f) => f.path).sort();
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the builds, types, README and docs, and nothing else', () => {
    for (const f of ['package.json', 'README.md', 'docs/README.md', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']) expect(files).toContain(f);
    for (const entry of ['testing', 'testing/conformance', 'postgres']) for (const ext of ['js', 'cjs', 'd.ts', 'd.cts']) expect(files).toContain(`dist/${entry}/index.${ext}`);
    const unexpected = files.filter((f) => !(f.startsWith('dist/') || /^docs\/[^/]+\.md$/.test(f) || f === 'README.md' || f === 'package.json' || f === 'LICENSE'));
    expect(unexpected).toEqual([]);
    expect(files.filter((f) => f.startsWith('docs/api'))).toEqual([]);
  });

  it('a scratch app outside the repo installs the tarball and runs web + worker processes, ESM and CJS', async () => {
    const app = join(work, 'app');
    mkdirSync(app);
    const pkg = {
      name: 'scratch-app',
      private: true,
      type: 'module',
      dependencies: { jobwing: `file:${tarball}`, zod: versionOf('zod'), 'better-sqlite3': versionOf('better-sqlite3') },
    };
    writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
    for (const f of ['app.mjs', 'app.cjs']) cpSync(fileURLToPath(new URL(`./app/${f}`, import.meta.url)), join(app, f));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app });
    const native = join(dirname(require.resolve('better-sqlite3/package.json')), 'build/Release/better_sqlite3.node');
    mkdirSync(join(app, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
    copyFileSync(native, join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'));

    // The installed package, not this checkout: it resolves inside the scratch app.
    const where = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('jobwing'), typeof (await import('jobwing/testing')).FakeClock)"], { cwd: app });
    expect(where.stdout.trim()).toBe(`file://${join(app, 'node_modules/jobwing/dist/index.js')} function`);

    for (const [file, label] of [['app.mjs', 'esm'], ['app.cjs', 'cjs']] as const) {
      const { stdout } = await run(process.execPath, [file, join(app, `${label}.sqlite`)], { cwd: app, timeout: 30_000 });
      const m = /^completed: hello (\w+) from (\d+) \(worker (\d+)\)$/m.exec(stdout);
      expect(m, stdout).not.toBeNull();
      expect(m![1]).toBe(label);
      expect(m![2]).toBe(m![3]); // the handler ran in the worker process, not the web process
    }
  }, 120_000);
});
