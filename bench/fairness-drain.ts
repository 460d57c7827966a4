/**
 * What fairness costs in throughput: the drain of N no-op jobs (pre-submitted by a
 * `worker: false` engine, as in bench/sqlite.ts) by a worker engine at concurrency 16 on a
 * SQLite file (synchronous NORMAL; `--store postgres` for a fresh Postgres schema), with `fairness: 'org'` (the default) and `'none'`, timed
 * from `engine.start()` to the last `job:status` `completed`. Two shapes of queue: every job
 * in one org (the claim's fast path: a cheap "more than one org queued?" check first), and the
 * jobs spread round-robin over several orgs (the fair claim plan visits the orgs in turn).
 * Each (shape, fairness) runs `--reps` times on a fresh file, the two settings alternating
 * which goes first; prints the medians of jobs/s and of the process's CPU µs per job (and every
 * jobs/s sample) as a table, then one JSON line.
 *
 *   npx tsx bench/fairness-drain.ts [--jobs 10000] [--concurrency 16] [--reps 3] [--orgs 1,10] [--store sqlite|postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JobEngine, sqliteStorage, type StorageAdapter } from '../src/index.js';
import { noopEntries, noopType } from './job-types.js';
import { scratchPgSchema } from './pg-common.js';
import { cpuMs, fmt } from './stats.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const JOBS = Number(arg('jobs', '10000'));
const CONCURRENCY = Number(arg('concurrency', '16'));
const REPS = Number(arg('reps', '3'));
const ORGS = arg('orgs', '1,10').split(',').map(Number);
const STORE = arg('store', 'sqlite');
const BATCH = 1_000;

type Fairness = 'org' | 'none';
const dir = mkdtempSync(join(tmpdir(), 'jobwing-fair-drain-'));
let fileSeq = 0;

/** A fresh store to fill and drain (each call of `storage()` opens another connection to it), and how to remove it. */
async function freshStore(name: string): Promise<{ storage: () => StorageAdapter; cleanup: () => Promise<void> }> {
  if (STORE === 'postgres') {
    const { postgresStorage } = await import('../src/postgres.js');
    const { url, schema, drop } = scratchPgSchema('jobwing_fdrain');
    return { storage: () => postgresStorage({ connectionString: url, schema }), cleanup: drop };
  }
  const path = join(dir, `${name}.sqlite`);
  return {
    storage: () => sqliteStorage({ path, synchronous: 'NORMAL' }),
    cleanup: async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    },
  };
}

/** One drain: fill a fresh file, then time a worker engine draining it: jobs/s and CPU µs per job. */
async function drainOnce(fairness: Fairness, orgs: number): Promise<{ perSec: number; cpuUsPerJob: number; errors: number }> {
  const { storage, cleanup } = await freshStore(`${++fileSeq}-${fairness}-${orgs}`);
  const filler = new JobEngine({ jobTypes: [noopType()], storage: storage(), worker: false });
  await filler.start();
  for (let from = 0; from < JOBS; from += BATCH) {
    // engine.system is trusted: it may put each job in another org (round-robin, so every org's backlog is interleaved).
    const entries = noopEntries(from, Math.min(BATCH, JOBS - from), 'fair-drain').map((e) => ({ ...e, options: { orgId: `org-${e.input.n % orgs}` } }));
    await filler.system.submitMany(entries);
  }
  await filler.stop();

  let errors = 0;
  let completed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const engine = new JobEngine({ jobTypes: [noopType()], storage: storage(), concurrency: CONCURRENCY, fairness });
  engine.on('engine:error', () => errors++);
  engine.on('job:status', (e) => {
    if (e.to === 'completed' && ++completed === JOBS) resolveDone();
  });
  const c0 = cpuMs();
  const t0 = performance.now();
  await engine.start();
  await done;
  const ms = performance.now() - t0;
  const cpu = cpuMs() - c0;
  await engine.stop();
  await cleanup();
  return { perSec: (JOBS * 1000) / ms, cpuUsPerJob: (cpu * 1000) / JOBS, errors };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const samples = new Map<string, number[]>();
const cpuSamples = new Map<string, number[]>(); // less swayed by other work on the machine than wall time
let errors = 0;
const load0 = loadavg()[0]!;
try {
  for (const orgs of ORGS) {
    for (let rep = 0; rep < REPS; rep++) {
      // Alternate which setting runs first, so drift of the machine does not favour one.
      const order: Fairness[] = rep % 2 === 0 ? ['org', 'none'] : ['none', 'org'];
      for (const fairness of order) {
        const r = await drainOnce(fairness, orgs);
        errors += r.errors;
        const key = `${orgs}|${fairness}`;
        samples.set(key, [...(samples.get(key) ?? []), r.perSec]);
        cpuSamples.set(key, [...(cpuSamples.get(key) ?? []), r.cpuUsPerJob]);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rows = ORGS.map((orgs) => {
  const org = samples.get(`${orgs}|org`)!;
  const none = samples.get(`${orgs}|none`)!;
  const cpu = { org: median(cpuSamples.get(`${orgs}|org`)!), none: median(cpuSamples.get(`${orgs}|none`)!) };
  return { orgs, org: median(org), none: median(none), ratio: median(org) / median(none), cpuUsPerJob: cpu, orgSamples: org, noneSamples: none };
});
console.log(`fairness drain: ${STORE === 'postgres' ? 'Postgres' : 'SQLite NORMAL'}, ${fmt(JOBS)} no-op jobs, concurrency ${CONCURRENCY}, median of ${REPS} (jobs/s; start() → last job:status completed)`);
console.log('| orgs queued | jobs/s, fairness org (default) | jobs/s, fairness none | org / none | CPU µs/job org | CPU µs/job none | samples org | samples none |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
for (const r of rows) {
  const list = (xs: number[]) => xs.map((x) => fmt(x, 0)).join(', ');
  console.log(`| ${r.orgs} | ${fmt(r.org, 0)} | ${fmt(r.none, 0)} | ${r.ratio.toFixed(2)} | ${fmt(r.cpuUsPerJob.org, 1)} | ${fmt(r.cpuUsPerJob.none, 1)} | ${list(r.orgSamples)} | ${list(r.noneSamples)} |`);
}
const load1 = loadavg()[0]!;
console.log(`load average (1 min) ${load0.toFixed(2)} → ${load1.toFixed(2)}${errors > 0 ? `; ${errors} engine:error` : ''}`);
console.log(JSON.stringify({ bench: 'fairness-drain', store: STORE, jobs: JOBS, concurrency: CONCURRENCY, reps: REPS, rows, load: [load0, load1], errors }));
