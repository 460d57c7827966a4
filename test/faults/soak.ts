/**
 * Soak: `npm run soak -- --minutes 5 [--store sqlite|postgres] [--seed N] [--faults kill,stop,term,store] [--verbose]`.
 *
 * Runs the chaos loop continuously in rounds (random SIGKILL, SIGSTOP…SIGCONT, SIGTERM
 * restarts, SQLite lock / Postgres backend kills, crashing handlers, continuous submits),
 * checks every invariant after each round, and prints one summary line:
 *
 *   soak store=sqlite minutes=5 seed=… rounds=… jobs=… faults=… (kill=… stop=… term=… store=…) violations=0
 *
 * Exit code 1 on any violation (each is printed, with the seed, to stderr; the rounds go on,
 * and the files are kept). `store` faults are the SQLite lock past busy_timeout, or on
 * Postgres `pg_terminate_backend` of workers' connections. Postgres reads
 * `JOBWING_TEST_PG_URL`. Not part of `npm test`.
 */
import { chaosRound, type FaultKind } from './chaos.js';
import { Cluster, formatViolations, PG_URL, resolveSeed, type Violation } from './harness.js';

const FAULTS: FaultKind[] = ['kill', 'stop', 'term', 'store'];

interface Args {
  faults: FaultKind[];
  minutes: number;
  store: 'sqlite' | 'postgres';
  seed: number;
  verbose: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { faults: FAULTS, minutes: 5, store: 'sqlite', seed: resolveSeed(), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--minutes') args.minutes = Number(value());
    else if (a === '--store') args.store = value() as Args['store'];
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--verbose') args.verbose = true;
    else if (a === '--faults') {
      args.faults = value().split(',') as FaultKind[];
      if (args.faults.length === 0 || args.faults.some((f) => !FAULTS.includes(f))) throw new Error(`--faults takes a comma-separated subset of ${FAULTS.join(',')}`);
    }
    else if (a === '--') continue;
    else throw new Error(`unknown argument ${a}; usage: npm run soak -- --minutes 5 [--store sqlite|postgres] [--seed N] [--faults kill,stop,term,store] [--verbose]`);
  }
  if (!Number.isFinite(args.minutes) || args.minutes <= 0) throw new Error('--minutes must be a positive number');
  if (args.store !== 'sqlite' && args.store !== 'postgres') throw new Error('--store must be sqlite or postgres');
  if (!Number.isInteger(args.seed)) throw new Error('--seed must be an integer');
  if (args.store === 'postgres' && !PG_URL) throw new Error('--store postgres needs JOBWING_TEST_PG_URL');
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const leaseMs = 1000;
  const c = await Cluster.create({ store: args.store, name: 'soak', seed: args.seed, leaseMs, pollIntervalMs: 50, ...(args.store === 'sqlite' ? { busyTimeoutMs: 300 } : {}) });
  const started = Date.now();
  const until = started + args.minutes * 60_000;
  const faults: Record<FaultKind, number> = { kill: 0, stop: 0, term: 0, store: 0 };
  const violations: Violation[] = [];
  let jobs = 0;
  let rounds = 0;
  const log = (s: string) => {
    if (args.verbose) process.stderr.write(`${s}\n`);
  };
  log(`soak: store=${args.store} seed=${args.seed} dir=${c.dir}`);
  let failed = false;
  try {
    while (Date.now() < until) {
      const remaining = until - Date.now();
      // Rounds of ~30 s (the last one shorter), each ending with every job settled and checked.
      const durationMs = Math.max(3_000, Math.min(30_000, remaining - 5_000));
      const roundStart = Date.now();
      const stats = await chaosRound(c, {
        durationMs,
        workers: 4,
        faults: args.faults,
        faultGapMs: [200, 900],
        submitGapMs: [30, 120],
        batch: [1, 4],
        spawn: { concurrency: 6 },
      });
      rounds++;
      jobs += stats.jobs;
      for (const k of Object.keys(faults) as FaultKind[]) faults[k] += stats.faults[k];
      violations.push(...stats.violations);
      log(`round ${rounds}: ${stats.jobs} jobs, faults ${JSON.stringify(stats.faults)}, ${stats.violations.length} violations, ${Math.round((Date.now() - roundStart) / 1000)} s (settle ${stats.settleMs} ms)`);
      if (stats.violations.length > 0) process.stderr.write(`round ${rounds}: ${formatViolations(stats.violations, args.seed)}\n`);
    }
  } catch (err) {
    failed = true;
    process.stderr.write(`soak aborted (JOBWING_FAULT_SEED=${args.seed}, files kept in ${c.dir}): ${(err as Error).stack ?? String(err)}\n`);
  }
  const total = faults.kill + faults.stop + faults.term + faults.store;
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const byRule = new Map<string, number>();
  for (const v of violations) byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1);
  const rules = byRule.size > 0 ? ` (${[...byRule].map(([r, n]) => `${r}=${n}`).join(' ')})` : '';
  process.stdout.write(
    `soak store=${args.store} minutes=${minutes} seed=${args.seed} rounds=${rounds} jobs=${jobs} faults=${total} (kill=${faults.kill} stop=${faults.stop} term=${faults.term} ${args.store === 'sqlite' ? 'lock' : 'backend'}=${faults.store}) violations=${violations.length}${rules}${failed ? ' ABORTED' : ''}\n`,
  );
  const bad = failed || violations.length > 0;
  if (bad) process.stderr.write(`files kept in ${c.dir}\n`);
  await c.close({ keepFiles: bad });
  return bad ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
