/**
 * pg-boss 10 (the last line for Node 20). Its workers poll (no LISTEN/NOTIFY in 10.x) at the
 * 0.5 s minimum and wait out the interval after each fetched batch, so concurrency C is C
 * `work()` loops fetching 100 jobs each; handlers of a batch run one after another and
 * pg-boss completes the batch in one statement. It emits no per-job completion event: a
 * job counts as done when its batch's handler returned (the completion commit that follows
 * is not awaited, which favours pg-boss slightly).
 */
import PgBoss from 'pg-boss';
import { dropSchema } from '../pg.js';
import { payload, type SystemDef } from '../peer.js';

const QUEUE = 'bench';
const BATCH = 100;

export const pgBoss: SystemDef = {
  name: 'pgboss',
  label: 'pg-boss 10 (PG)',
  backend: 'postgres',
  note: 'pg-boss: done = batch handler returned',
  async create(o) {
    if (o.fresh) await dropSchema(o.loc.pgUrl, o.loc.schema);
    const boss = new PgBoss({ connectionString: o.loc.pgUrl, schema: o.loc.schema, supervise: false, schedule: false });
    boss.on('error', () => undefined);
    await boss.start();
    if (o.fresh) await boss.createQueue(QUEUE);
    return {
      async submit(n) {
        await boss.send(QUEUE, payload(n));
      },
      async submitMany(from, count) {
        await boss.insert(Array.from({ length: count }, (_, i) => ({ name: QUEUE, data: payload(from + i) })));
      },
      async start() {
        if (!o.worker) return;
        for (let i = 0; i < o.concurrency; i++) {
          await boss.work<{ n: number }>(QUEUE, { batchSize: BATCH, pollingIntervalSeconds: 0.5 }, async (jobs) => {
            for (const job of jobs) {
              o.onStart?.(job.data.n);
              o.onComplete?.();
            }
          });
        }
      },
      async close() {
        await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
      },
    };
  },
};
