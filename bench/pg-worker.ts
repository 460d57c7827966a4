/**
 * A Postgres benchmark worker process, spawned by bench/postgres.ts:
 *   node --import tsx bench/pg-worker.ts --schema S --concurrency C --mode drain|latency [--trace]
 * The database URL comes in the JOBWING_BENCH_CHILD_URL environment variable (not argv).
 *
 * drain:   builds a worker engine, says `ready`, starts it on `go` (so the parent's clock
 *          does not include process start-up), counts handler runs.
 * latency: starts the engine at once, says `ready`, and reports every handler start as
 *          `{ type: 'start', n, jobId, t }` with `t` = process.hrtime.bigint() (CLOCK_MONOTONIC,
 *          the same clock in every process of the machine, so the parent can subtract).
 * Both stop on `stop`, reply `stopped` with the run count and any engine errors (and, with
 * `--trace`, the store calls counted since `go`), and exit.
 */
import { parseArgs } from 'node:util';
import { JobEngine } from '../src/index.js';
import { noopType } from './job-types.js';
import { loadPostgresStorage, type ParentMessage, type WorkerMessage } from './pg-common.js';
import { formatStats, traceStore, type MethodStats } from './store-trace.js';

function send(m: WorkerMessage): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      schema: { type: 'string' },
      concurrency: { type: 'string', default: '16' },
      mode: { type: 'string', default: 'drain' },
      trace: { type: 'boolean', default: false },
    },
  });
  const url = process.env.JOBWING_BENCH_CHILD_URL;
  if (!process.send) throw new Error('pg-worker must be spawned with an IPC channel');
  if (!url || !values.schema) throw new Error('pg-worker needs JOBWING_BENCH_CHILD_URL and --schema');
  const mode = values.mode;
  if (mode !== 'drain' && mode !== 'latency') throw new Error(`unknown mode ${mode}`);
  const postgresStorage = await loadPostgresStorage();
  if (typeof postgresStorage === 'string') throw new Error(postgresStorage);

  let runs = 0;
  const errors: string[] = [];
  const storage = postgresStorage({ connectionString: url, schema: values.schema });
  const tracer = values.trace ? traceStore(storage) : null;
  let traceMark: Record<string, MethodStats> = {};
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let cpuAtGo = cpu();
  const engine = new JobEngine({
    jobTypes: [
      noopType(
        mode === 'latency'
          ? (n, jobId) => {
              const t = process.hrtime.bigint();
              runs++;
              send({ type: 'start', n, jobId, t: t.toString() });
            }
          : () => {
              if (runs++ === 0) send({ type: 'first', t: process.hrtime.bigint().toString() });
            },
      ),
    ],
    storage: tracer ? tracer.storage : storage,
    worker: true,
    concurrency: Number(values.concurrency),
  });
  engine.on('engine:error', (e) => {
    if (errors.length < 20) errors.push(`${e.source}: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
  });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= engine
      .stop({ graceMs: 5_000 })
      .catch((error: unknown) => {
        errors.push(`stop: ${error instanceof Error ? error.message : String(error)}`);
      })
      .then(() => {
        send({ type: 'stopped', runs, errors, trace: tracer ? formatStats(tracer.stats(), traceMark) : undefined, cpuMs: cpu() - cpuAtGo });
        process.disconnect?.();
      });
    return stopping;
  };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'go') {
      cpuAtGo = cpu();
      if (tracer) traceMark = tracer.stats();
      engine.start().catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? error.message : String(error) }));
    } else if (m.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop()); // the parent died: do not linger

  if (mode === 'latency') {
    await engine.start();
    if (tracer) traceMark = tracer.stats();
    cpuAtGo = cpu();
  }
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
});
