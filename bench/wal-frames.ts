/**
 * Write amplification on SQLite: WAL pages (frames) written per submitted job, one job per
 * commit and 500 per commit. `npx tsx bench/wal-frames.ts`
 *
 * Each page is 4 KiB written at commit (and copied again at checkpoint), whatever the row's
 * size: the pages a transaction dirties (the jobs row, each index entry it changes, history,
 * counters) set the cost of a small transaction, not its row count. plainjob 0.0.14 writes
 * 3.1 pages per submit (3 indexes); see docs/performance.md.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { JobEngine, sqliteStorage } from '../src/index.js';
import { noopEntries, noopType } from './job-types.js';

const FRAME_BYTES = 4096 + 24;
const dir = mkdtempSync(join(tmpdir(), 'jobwing-frames-'));
const path = join(dir, 'jobs.sqlite');
const walPages = () => statSync(`${path}-wal`).size / FRAME_BYTES;

try {
  const storage = sqliteStorage({ path, synchronous: 'NORMAL' });
  const producer = new JobEngine({ jobTypes: [noopType()], storage, worker: false });
  await producer.start();
  const raw = new Database(path);
  for (let i = 0; i < 2_000; i++) await producer.system.submit('bench-noop', { n: i, tag: 'bench' }); // b-trees of a realistic depth
  // From an empty WAL, and few enough commits that no automatic checkpoint (at 1,000 pages)
  // restarts it, so its size counts every page written.
  raw.pragma('wal_checkpoint(TRUNCATE)');
  const SUBMITS = 40;
  for (let i = 2_000; i < 2_000 + SUBMITS; i++) await producer.system.submit('bench-noop', { n: i, tag: 'bench' });
  const perSubmit = walPages() / SUBMITS;
  raw.pragma('wal_checkpoint(TRUNCATE)');
  await producer.system.submitMany(noopEntries(10_000, 500));
  const perJobInBatch = walPages() / 500;
  await producer.stop();
  raw.close();
  console.log(`SQLite NORMAL: ${perSubmit.toFixed(1)} WAL pages per single awaited submit (one job per commit)`);
  console.log(`SQLite NORMAL: ${perJobInBatch.toFixed(2)} WAL pages per job in a submitMany of 500 (one commit)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
