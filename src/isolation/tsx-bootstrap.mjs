// Used only when jobwing runs from its TypeScript sources (its own tests, via tsx or vitest):
// registers tsx in the worker thread, then loads the .ts thread entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
globalThis.__jobwingTsx = true;
await import(workerData.jobwingEntry);
