/**
 * `npm run bench:compare` at the repository root lands here: installs this package's own
 * dependencies (npm ci, or npm install when there is no lock file yet; skipped when
 * node_modules already matches the lock), then runs run.ts through tsx with the arguments.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const lock = join(here, 'package-lock.json');
const installed = join(here, 'node_modules', '.package-lock.json'); // npm's record of what it installed
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const upToDate = existsSync(lock) && existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs;
if (!upToDate) {
  const verb = existsSync(lock) ? 'ci' : 'install';
  console.error(`bench:compare: npm ${verb} --prefix bench/compare`);
  const r = spawnSync(npm, [verb, '--prefix', here, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'run.ts'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: here });
process.exit(r.status ?? 1);
