/**
 * plainjob 0.0.x on better-sqlite3. It sets WAL and synchronous=NORMAL itself. A plainjob
 * worker runs one job at a time, so concurrency C is C workers on one queue (its documented
 * way to run more); workers poll every second (its default) when the queue is empty.
 */
import Database from 'better-sqlite3';
import { better, defineQueue, defineWorker, type Worker } from 'plainjob';
import { payload, type SystemDef } from '../peer.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

export const plainjob: SystemDef = {
  name: 'plainjob',
  label: 'plainjob (SQLite NORMAL)',
  backend: 'sqlite',
  async create(o) {
    const connection = better(new Database(o.loc.sqlitePath));
    const queue = defineQueue({ connection, logger: silent });
    const workers: Worker[] = [];
    const running: Promise<void>[] = [];
    if (o.worker) {
      for (let i = 0; i < o.concurrency; i++) {
        workers.push(
          defineWorker(
            'bench',
            (job) => {
              o.onStart?.((JSON.parse(job.data) as { n: number }).n);
            },
            { queue, logger: silent, onCompleted: o.onComplete ? () => o.onComplete!() : undefined },
          ),
        );
      }
    }
    return {
      async submit(n) {
        queue.add('bench', payload(n));
      },
      async submitMany(from, count) {
        queue.addMany('bench', Array.from({ length: count }, (_, i) => payload(from + i)));
      },
      async start() {
        for (const w of workers) running.push(w.start());
      },
      async close() {
        await Promise.all(workers.map((w) => w.stop()));
        await Promise.allSettled(running);
        queue.close();
      },
    };
  },
};
