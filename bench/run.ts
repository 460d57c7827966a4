/**
 * `npm run bench [-- --store sqlite|postgres] [--only name[,name…]] [--jobs N] [--samples N] [--trace]`
 *
 * Prints a table of figures, then one JSON line (`{"bench":"jobwing",…}`) for machines.
 * Targets are reported as met / MISSED; a timing never makes this fail. It exits non-zero only
 * when a benchmark could not run at all (an error, not a slow figure).
 *
 * Benchmarks (`--only` takes these names, comma-separated):
 *   sqlite:   enqueue-single, enqueue-concurrent, enqueue-batch, drain, latency
 *   postgres: pg-drain, pg-latency
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runPostgresBenchmarks } from './postgres.js';
import { runSqliteBenchmarks } from './sqlite.js';
import { load1, machineInfo, printTable, type BenchResult } from './stats.js';

const SQLITE_NAMES = ['enqueue-single', 'enqueue-concurrent', 'enqueue-batch', 'drain', 'latency'];
const POSTGRES_NAMES = ['pg-drain', 'pg-latency'];

function usage(message?: string): never {
  if (message) console.error(`bench: ${message}`);
  console.error(
    [
      'usage: npm run bench -- [--store sqlite|postgres] [--only NAME[,NAME…]] [--jobs N] [--samples N] [--workers N[,N…]] [--trace]',
      `  sqlite benchmarks:   ${SQLITE_NAMES.join(', ')}`,
      `  postgres benchmarks: ${POSTGRES_NAMES.join(', ')}`,
      '  --jobs N      job count of every throughput benchmark (defaults: single 2,000; batch 50,000; others 10,000)',
      '  --samples N   latency samples after warm-up (default 1,000)',
      '  --workers L   postgres drain: worker process counts (default 1,4)',
      '  --trace       count store calls (transactions) per measured section (postgres: in the workers)',
      '  postgres URL: JOBWING_BENCH_PG_URL, else JOBWING_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/test',
    ].join('\n'),
  );
  process.exit(2);
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) usage(`${name} must be a positive integer, got "${v}"`);
  return n;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        store: { type: 'string', default: 'sqlite' },
        only: { type: 'string' },
        jobs: { type: 'string' },
        samples: { type: 'string' },
        workers: { type: 'string' },
        trace: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    usage((error as Error).message);
  }
  if (args.help) usage();
  const store = args.store;
  if (store !== 'sqlite' && store !== 'postgres') usage(`--store must be sqlite or postgres, got "${store}"`);
  const known = store === 'sqlite' ? SQLITE_NAMES : POSTGRES_NAMES;
  const only = args.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
  for (const name of only ?? []) {
    if (!known.includes(name)) usage(`unknown benchmark "${name}" for --store ${store} (known: ${known.join(', ')})`);
  }
  const jobs = positiveInt('--jobs', args.jobs);
  const samples = positiveInt('--samples', args.samples) ?? 1_000;
  const workers = args.workers?.split(',').map((w) => positiveInt('--workers', w)!) ?? [1, 4];
  const wanted = (name: string) => only === null || only.includes(name);

  const machine = machineInfo();
  console.log(`jobwing bench · store=${store} · ${machine.cpus} × ${machine.cpuModel} · ${machine.memGiB} GiB · node ${machine.node} · tmpdir ${machine.tmpdirFs} · src ${machine.git} · load ${load1()}`);
  const results: BenchResult[] = [];
  const report = (r: BenchResult) => {
    r.load1 = load1();
    results.push(r);
    const figure = r.error !== undefined ? `ERROR ${r.error}` : r.perSec !== undefined ? `${Math.round(r.perSec)} jobs/s` : `p50 ${r.p50?.toFixed(3)} ms p99 ${r.p99?.toFixed(3)} ms`;
    process.stderr.write(`  ${r.name} ${r.setting}: ${figure}\n`);
  };

  const dir = mkdtempSync(join(tmpdir(), 'jobwing-bench-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let unavailable: string | null = null;
  try {
    if (store === 'sqlite') {
      await runSqliteBenchmarks({ dir, jobs, samples, wanted, report, trace: args.trace === true });
    } else {
      unavailable = await runPostgresBenchmarks({ jobs, samples, workers, wanted, report, trace: args.trace === true });
    }
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  console.log('');
  if (unavailable !== null) console.log(unavailable);
  if (results.length > 0) printTable(results);
  console.log('');
  console.log(JSON.stringify({ bench: 'jobwing', store, at: new Date().toISOString(), machine, unavailable, results }));
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
