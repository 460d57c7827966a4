/**
 * Where the isolation thread entry lives: next to this file in the TypeScript sources (then
 * started through a tsx bootstrap), or dist/isolation/thread-entry.js in the built package
 * (this code may be bundled into dist/, a dist/ chunk, or dist/<entry>/index.cjs).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What `new Worker()` loads, and the real entry when a bootstrap loads it. */
export interface ThreadEntry {
  file: URL;
  workerData: Record<string, unknown>;
}

let cached: ThreadEntry | null = null;

/** @throws Error when neither the sources nor the build hold the entry (a broken install). */
export function threadEntry(): ThreadEntry {
  if (cached) return cached;
  const here = dirname(typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url));
  const source = join(here, 'thread-entry.ts');
  if (existsSync(source)) {
    cached = { file: pathToFileURL(join(here, 'tsx-bootstrap.mjs')), workerData: { jobwingEntry: pathToFileURL(source).href } };
    return cached;
  }
  for (const candidate of [join(here, 'isolation', 'thread-entry.js'), join(here, '..', 'isolation', 'thread-entry.js')]) {
    if (existsSync(candidate)) {
      cached = { file: pathToFileURL(candidate), workerData: {} };
      return cached;
    }
  }
  throw new Error(`jobwing: the isolation thread entry (isolation/thread-entry.js) was not found near ${here}; reinstall jobwing`);
}
