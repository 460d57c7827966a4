/**
 * BullMQ on Redis. Keys live under this run's prefix only; a fresh measurement obliterates
 * its queue (never FLUSHDB). Completed jobs are kept (BullMQ's default), as jobwing keeps them.
 */
import { Queue, Worker } from 'bullmq';
import { payload, type SystemDef } from '../peer.js';

const QUEUE = 'bench';

export const bullmq: SystemDef = {
  name: 'bullmq',
  label: 'BullMQ (Redis)',
  backend: 'redis',
  async create(o) {
    const connection = { host: o.loc.redisHost, port: o.loc.redisPort, maxRetriesPerRequest: null };
    const queue = new Queue(QUEUE, { connection, prefix: o.loc.redisPrefix });
    await queue.waitUntilReady();
    if (o.fresh) await queue.obliterate({ force: true });
    let worker: Worker | null = null;
    if (o.worker) {
      worker = new Worker(
        QUEUE,
        async (job) => {
          o.onStart?.((job.data as { n: number }).n);
        },
        { connection, prefix: o.loc.redisPrefix, concurrency: o.concurrency, autorun: false },
      );
      worker.on('error', () => undefined);
      if (o.onComplete) {
        const onComplete = o.onComplete;
        worker.on('completed', () => onComplete());
      }
    }
    return {
      async submit(n) {
        await queue.add('noop', payload(n));
      },
      async submitMany(from, count) {
        await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: payload(from + i) })));
      },
      async start() {
        if (!worker) return;
        void worker.run();
        await worker.waitUntilReady();
      },
      async close() {
        await worker?.close();
        await queue.close();
      },
    };
  },
};
