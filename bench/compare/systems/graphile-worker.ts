/**
 * graphile-worker 0.17 (the last line for Node 20), tuned as its performance docs suggest
 * (https://worker.graphile.org/docs/performance#batching): a local queue of 100 jobs fetched
 * and locked per query, and batched completions (`completeJobBatchDelay: 0` batches the
 * completions of one tick without adding latency). Producers use WorkerUtils.
 */
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from 'graphile-worker';
import { dropSchema } from '../pg.js';
import { payload, type SystemDef } from '../peer.js';

const logger = new Logger(() => () => undefined);

export const graphileWorker: SystemDef = {
  name: 'graphile',
  label: 'graphile-worker tuned (PG)',
  backend: 'postgres',
  async create(o) {
    if (o.fresh) await dropSchema(o.loc.pgUrl, o.loc.schema);
    const utils: WorkerUtils = await makeWorkerUtils({ connectionString: o.loc.pgUrl, schema: o.loc.schema, logger });
    await utils.migrate();
    let runner: Runner | null = null;
    return {
      async submit(n) {
        await utils.addJob('noop', payload(n));
      },
      async submitMany(from, count) {
        await utils.addJobs(Array.from({ length: count }, (_, i) => ({ identifier: 'noop', payload: payload(from + i) })));
      },
      async start() {
        if (!o.worker) return;
        runner = await run({
          connectionString: o.loc.pgUrl,
          schema: o.loc.schema,
          concurrency: o.concurrency,
          noHandleSignals: true,
          logger,
          taskList: {
            noop: async (p) => {
              o.onStart?.((p as { n: number }).n);
            },
          },
          preset: { worker: { localQueue: { size: 100 }, completeJobBatchDelay: 0 } },
        });
        if (o.onComplete) {
          const onComplete = o.onComplete;
          runner.events.on('job:complete', ({ error }) => {
            if (!error) onComplete();
          });
        }
      },
      async close() {
        await runner?.stop();
        await utils.release();
      },
    };
  },
};
