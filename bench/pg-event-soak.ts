/**
 * Soak of Postgres event delivery: drains 10,000 no-op jobs again and again (fresh schema each
 * time, concurrency 16, fairness and org count alternating) and checks that every completed
 * job's `job:status` `completed` event reached the engine. On the first drain where events
 * are still missing 30 s later, it prints which seqs are missing and every `readEvents` call
 * around them (decoded cursors), and exits 1.
 *
 * Found 2026-12-03: about 1 drain in 30–85 lost one settle batch's events (15–32 rows): a
 * short page advanced the cursor to the horizon while that batch's writer, which had taken
 * its seqs after the read's writer scan, was still running. Cause: the horizon was read with
 * `SELECT last_value FROM event_seq`, which can see nextval()'s WAL look-ahead value (up to 32
 * too high); now read with pg_sequence_last_value() (schema.ts, eventHorizonSql;
 * test/regressions/pg-event-horizon.test.ts).
 *
 *   npx tsx bench/pg-event-soak.ts [--drains 80]
 */
import { JobEngine, type StorageAdapter } from '../src/index.js';
import { postgresStorage } from '../src/postgres.js';
import { noopEntries, noopType } from './job-types.js';
import { scratchPgSchema } from './pg-common.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const DRAINS = Number(arg('drains', '80'));
const JOBS = 10_000;
const pg = (await import('pg')).default;
const decode = (c: string | null) => (c === null ? null : (JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { s: number; g?: unknown }));

type Read = { after: string | null; cursor: string; n: number; at: number; jobIds: string[] };

/** The store, recording every readEvents call (cursors and the first and last job id delivered). */
function recorded(store: StorageAdapter, reads: Read[]): StorageAdapter {
  const read = store.readEvents.bind(store);
  store.readEvents = async (req) => {
    const r = await read(req);
    const ids = r.events.map((e) => e.event.jobId);
    reads.push({ after: req.after, cursor: r.cursor, n: r.events.length, at: performance.now(), jobIds: ids.length > 0 ? [ids[0]!, ids[ids.length - 1]!] : [] });
    return r;
  };
  return store;
}

for (let drain = 0; drain < DRAINS; drain++) {
  const fairness = drain % 2 ? 'org' : 'none';
  const orgs = drain % 4 < 2 ? 1 : 10;
  const { url, schema, drop } = scratchPgSchema('jobwing_soak');
  const filler = new JobEngine({ jobTypes: [noopType()], storage: postgresStorage({ connectionString: url, schema }), worker: false });
  await filler.start();
  for (let from = 0; from < JOBS; from += 1000) {
    await filler.system.submitMany(noopEntries(from, 1000, 'soak').map((e) => ({ ...e, options: { orgId: `org-${e.input.n % orgs}` } })));
  }
  await filler.stop();

  const reads: Read[] = [];
  const engine = new JobEngine({ jobTypes: [noopType()], storage: recorded(postgresStorage({ connectionString: url, schema }), reads), concurrency: 16, fairness });
  const seen = new Set<string>();
  let errors = 0;
  let allSeen!: () => void;
  const complete = new Promise<void>((resolve) => (allSeen = resolve));
  engine.on('engine:error', () => errors++);
  engine.on('job:status', (e) => {
    if (e.to === 'completed' && seen.add(e.jobId).size === JOBS) allSeen();
  });
  await engine.start();
  let timer: NodeJS.Timeout | undefined;
  const lost = await Promise.race([complete.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 30_000)))]);
  clearTimeout(timer);
  if (lost) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const rows = (await c.query<{ seq: string; job_id: string }>(`SELECT seq, job_id FROM "${schema}".job_history WHERE to_status = 'completed'`)).rows;
    await c.end();
    const seqOf = new Map(rows.map((r) => [r.job_id, Number(r.seq)]));
    const missing = rows.filter((r) => !seen.has(r.job_id)).map((r) => Number(r.seq)).sort((a, b) => a - b);
    console.log(`drain ${drain} (${orgs} org(s), fairness ${fairness}): ${missing.length} completed events not delivered, seqs ${missing[0]}..${missing[missing.length - 1]}; ${errors} engine:error`);
    for (const r of reads) {
      const after = decode(r.after);
      const cursor = decode(r.cursor)!;
      if (after === null || after.g || cursor.g || (cursor.s >= missing[0]! - 100 && after.s <= missing[missing.length - 1]! + 100)) {
        console.log(JSON.stringify({ atMs: Math.round(r.at), events: r.n, after, cursor, completedSeqsOfFirstAndLast: r.jobIds.map((id) => seqOf.get(id) ?? null) }));
      }
    }
    await engine.stop();
    await drop();
    process.exit(1);
  }
  await engine.stop();
  await drop();
  console.log(`drain ${drain} (${orgs} org(s), fairness ${fairness}): all ${JOBS} completed events delivered`);
}
