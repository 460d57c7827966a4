/** Where the fault harness finds the repository, the worker fixture and the Postgres store. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/faults (the fixtures live below it). */
export const FAULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Repository root (where `tsx` resolves). */
export const REPO_ROOT = resolve(FAULTS_DIR, '../..');
export const WORKER_SCRIPT = join(FAULTS_DIR, 'fixtures', 'worker.ts');
export const POSTGRES_MODULE = join(REPO_ROOT, 'src', 'postgres.ts');
export const BUNDLE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'jobwing-faults');
