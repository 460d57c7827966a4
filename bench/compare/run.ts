/**
 * `npm run bench:compare [-- --jobs N] [--reps N] [--only NAME,…] [--samples N] [--depth-1m]`
 *
 * jobwing (SQLite FULL, SQLite NORMAL, Postgres) side by side with a raw better-sqlite3 loop,
 * plainjob, BullMQ, graphile-worker and pg-boss. One child process per measurement; the
 * systems alternate within each workload (their order rotates every repetition), and the table
 * shows medians over the repetitions. A system whose server does not answer is skipped with a
 * message. Writes results/latest.md, results/latest.json and ../../docs/performance.svg
 * (`--name X`: results/X.md and X.json only).
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildChild } from './build-child.js';
import { dropSchema, probePostgres } from './pg.js';
import type { Backend, StoreLocation } from './peer.js';
import { probeRedis } from './redis.js';
import type { Measurement } from './report.js';
import { SYSTEMS, UNSUPPORTED } from './systems/index.js';
import { WORKLOADS, type MeasureOutput, type Workload } from './workloads.js';
import { writeResults } from './write-results.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..', '..');

function usage(message?: string): never {
  if (message) console.error(`bench:compare: ${message}`);
  console.error(
    [
      'usage: npm run bench:compare -- [--jobs N] [--reps N] [--only NAME[,NAME…]] [--samples N] [--depth-1m]',
      '  --jobs N      jobs per throughput measurement (default 10000)',
      '  --reps N      repetitions; the table shows medians (default 3)',
      '  --samples N   latency samples per measurement (default 100; capped at 20 s each)',
      '  --depth-1m    also drain 1,000,000 queued jobs at concurrency 16 (long)',
      '  --name NAME   write results/NAME.md and .json (default latest; only latest redraws docs/performance.svg)',
      `  --only L      systems and/or workloads to run, comma-separated:`,
      `                systems:   ${SYSTEMS.map((s) => s.name).join(', ')}`,
      `                workloads: ${WORKLOADS.join(', ')}`,
      '  Postgres: JOBWING_BENCH_PG_URL, else JOBWING_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/test',
      '  Redis:    JOBWING_BENCH_REDIS_URL (default redis://127.0.0.1:6379); keys under the prefix "jwcmp"',
    ].join('\n'),
  );
  process.exit(2);
}

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) usage(`${name} must be a positive integer, got "${v}"`);
  return n;
}

function machine() {
  const git = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, git };
}

function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pkg of ['better-sqlite3', 'plainjob', 'bullmq', 'graphile-worker', 'pg-boss', 'pg']) {
    try {
      out[pkg] = (JSON.parse(readFileSync(join(here, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      out[pkg] = 'missing';
    }
  }
  return out;
}

/** Runs the compiled child (build-child.ts) for one measurement and returns what it replied. */
function runChild(childPath: string, args: string[], timeoutMs: number): Promise<MeasureOutput> {
  return new Promise((resolve, reject) => {
    const child = fork(childPath, args, { execArgv: [], cwd: here, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    let reply: { type: 'result'; output: MeasureOutput } | { type: 'error'; error: string } | null = null;
    const timer = setTimeout(() => {
      if (!settled) reject(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s`));
      settled = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (m: typeof reply) => {
      reply = m;
      // A child that replied but keeps a handle open is not waited for.
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      if (reply?.type === 'result') resolve(reply.output);
      else if (reply?.type === 'error') reject(new Error(reply.error));
      else reject(new Error(`child exited (${code ?? signal}) without a result`));
    });
  });
}

function describe(o: MeasureOutput): string {
  const m = o.metrics;
  const parts: string[] = [];
  if (m.perSec !== undefined) parts.push(`${Math.round(m.perSec).toLocaleString('en-US')} jobs/s`);
  if (m.p50Ms !== undefined) parts.push(`p50 ${m.p50Ms.toFixed(2)} ms p99 ${m.p99Ms?.toFixed(2)} ms (${o.count} samples)`);
  if (m.cpuUsPerJob !== undefined) parts.push(`cpu ${m.cpuUsPerJob.toFixed(0)} µs/job, rss ${m.peakRssMB?.toFixed(0)} MB, eld p99 ${m.eldP99Ms?.toFixed(1)} ms`);
  if (o.note) parts.push(o.note);
  return parts.join(', ');
}

async function main(): Promise<void> {
  let values;
  try {
    values = parseArgs({
      options: {
        jobs: { type: 'string' },
        reps: { type: 'string' },
        samples: { type: 'string' },
        only: { type: 'string' },
        'depth-1m': { type: 'boolean', default: false },
        name: { type: 'string', default: 'latest' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    usage((error as Error).message);
  }
  if (values.help) usage();
  const jobs = positiveInt('--jobs', values.jobs, 10_000);
  const reps = positiveInt('--reps', values.reps, 3);
  const samples = positiveInt('--samples', values.samples, 100);
  const name = values.name!;
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name)) usage(`--name must be letters, digits, - or _, got "${name}"`);
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  const systemNames = SYSTEMS.map((s) => s.name);
  for (const o of only) if (!systemNames.includes(o) && !(WORKLOADS as readonly string[]).includes(o)) usage(`--only: unknown system or workload "${o}"`);
  const onlySystems = only.filter((o) => systemNames.includes(o));
  const onlyWorkloads = only.filter((o) => (WORKLOADS as readonly string[]).includes(o)) as Workload[];
  let workloads: Workload[] = onlyWorkloads.length ? onlyWorkloads : WORKLOADS.filter((w) => w !== 'depth-1m');
  if (values['depth-1m'] && !workloads.includes('depth-1m')) workloads = [...workloads, 'depth-1m'];
  let systems = SYSTEMS.filter((s) => onlySystems.length === 0 || onlySystems.includes(s.name));

  const pgUrl = process.env.JOBWING_BENCH_PG_URL || process.env.JOBWING_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const redis = new URL(process.env.JOBWING_BENCH_REDIS_URL || 'redis://127.0.0.1:6379');
  const redisHost = redis.hostname;
  const redisPort = Number(redis.port || 6379);
  const m = machine();
  console.log(`bench:compare · ${m.cpus} × ${m.cpuModel} · ${m.memGiB} GiB · node ${m.node} · src ${m.git} · jobs ${jobs} · reps ${reps} · load ${loadavg()[0]!.toFixed(2)}`);

  // Skip the systems whose server does not answer, saying so.
  const skipped: string[] = [];
  const backends = new Set(systems.map((s) => s.backend));
  const down: Partial<Record<Backend, string>> = {};
  if (backends.has('postgres')) {
    const why = await probePostgres(pgUrl);
    if (why) down.postgres = why;
  }
  if (backends.has('redis')) {
    const why = await probeRedis(redisHost, redisPort);
    if (why) down.redis = why;
  }
  for (const s of systems) {
    const why = down[s.backend];
    if (why) {
      skipped.push(`${s.label}: skipped, ${why}`);
      console.log(`skipping ${s.name}: ${why}`);
    }
  }
  systems = systems.filter((s) => !down[s.backend]);

  const dir = mkdtempSync(join(tmpdir(), 'jobwing-compare-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  const plan: { system: (typeof systems)[number]; workload: Workload; rep: number }[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    for (const workload of workloads) {
      const runnable = systems.filter((s) => !UNSUPPORTED[s.name]?.includes(workload));
      const shift = (rep - 1) % Math.max(1, runnable.length);
      for (const system of [...runnable.slice(shift), ...runnable.slice(0, shift)]) plan.push({ system, workload, rep });
    }
  }

  const childPath = await buildChild(here);
  const measurements: Measurement[] = [];
  const t0 = Date.now();
  try {
    for (const [k, step] of plan.entries()) {
      const { system, workload, rep } = step;
      const loc: StoreLocation = {
        sqlitePath: join(dir, `${system.name}-${workload}-${rep}.sqlite`),
        pgUrl,
        schema: `jwcmp_${system.name.replace(/-/g, '_')}`,
        redisHost,
        redisPort,
        redisPrefix: 'jwcmp',
      };
      const args = ['--system', system.name, '--workload', workload, '--jobs', String(jobs), '--samples', String(samples), '--loc', JSON.stringify(loc)];
      const head = `[${k + 1}/${plan.length}] rep ${rep} ${workload} ${system.name}`;
      try {
        const output = await runChild(childPath, args, workload === 'depth-1m' ? 45 * 60_000 : 10 * 60_000);
        measurements.push({ system: system.name, workload, rep, output });
        console.error(`${head}: ${describe(output)}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        measurements.push({ system: system.name, workload, rep, error: message });
        console.error(`${head}: ERROR ${message}`);
      } finally {
        for (const ext of ['', '-wal', '-shm']) rmSync(loc.sqlitePath + ext, { force: true });
      }
    }
  } finally {
    cleanup();
    await cleanupServers(systems.map((s) => s.name), pgUrl, redisHost, redisPort);
  }

  const md = writeResults({
    at: new Date().toISOString(),
    machine: m,
    load1: loadavg()[0]!,
    minutes: (Date.now() - t0) / 60_000,
    settings: { jobs, reps, samples, workloads },
    versions: versions(),
    skipped,
    measurements,
  }, name);
  console.log('');
  console.log(md);
  console.log(`wrote bench/compare/results/${name}.md and ${name}.json${name === 'latest' ? ' and docs/performance.svg' : ''}`);
}

/** Drops the bench's Postgres schemas and its BullMQ queue: nothing outside them is touched. */
async function cleanupServers(ran: string[], pgUrl: string, redisHost: string, redisPort: number): Promise<void> {
  for (const name of ran) {
    if (SYSTEMS.find((s) => s.name === name)?.backend === 'postgres') await dropSchema(pgUrl, `jwcmp_${name.replace(/-/g, '_')}`).catch(() => undefined);
  }
  if (ran.includes('bullmq')) {
    const { Queue } = await import('bullmq');
    const q = new Queue('bench', { connection: { host: redisHost, port: redisPort, maxRetriesPerRequest: null }, prefix: 'jwcmp' });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
