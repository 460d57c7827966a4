/**
 * How long `submitMany` holds the event loop (review defect 6), on SQLite.
 *   npx tsx bench/submit-many-stall.ts [entries=5000] [FULL|NORMAL]
 * Prints the call's wall time, the time spent inside the store's insert (one synchronous
 * transaction) and the longest gap a 1 ms timer saw: the stall a web server beside it feels.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineJobType, JobEngine, sqliteStorage } from '../src/index.js';

const entries = Number(process.argv[2] ?? 5000);
const synchronous = process.argv[3] === 'FULL' ? 'FULL' : 'NORMAL';
const type = defineJobType({ name: 't', input: z.object({ n: z.number(), s: z.string() }), dedupWindowMs: 0, async handler() {} });
const dir = mkdtempSync(join(tmpdir(), 'jobwing-stall-'));
const store = sqliteStorage({ path: join(dir, 'jobs.db'), synchronous });
const insertJobs = store.insertJobs.bind(store);
let insertMs = 0;
store.insertJobs = async (req) => {
  const t = performance.now();
  try {
    return await insertJobs(req);
  } finally {
    insertMs += performance.now() - t;
  }
};
const engine = new JobEngine({ jobTypes: [type], storage: store, worker: false });
await engine.start();
let last = performance.now();
let maxGap = 0;
const timer = setInterval(() => {
  const now = performance.now();
  maxGap = Math.max(maxGap, now - last);
  last = now;
}, 1);
await new Promise((r) => setTimeout(r, 20));
last = performance.now();
const t0 = performance.now();
await engine.system.submitMany(Array.from({ length: entries }, (_, i) => ({ type: 't' as const, input: { n: i, s: 'hello' } })));
const t1 = performance.now();
maxGap = Math.max(maxGap, t1 - last);
clearInterval(timer);
console.log(`submitMany ${entries} (${synchronous}): ${(t1 - t0).toFixed(0)} ms in all, insert ${insertMs.toFixed(0)} ms, longest event-loop gap ${maxGap.toFixed(0)} ms`);
await engine.stop();
rmSync(dir, { recursive: true, force: true });
