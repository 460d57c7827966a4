/**
 * jobwing, imported from the repository's source (../../src, compiled with the child by
 * build-child.ts), so the bench measures the working tree, not a published build. Three systems: SQLite FULL (the default),
 * SQLite NORMAL, Postgres. Jobs go through the public API: `engine.system.submit()`,
 * `submitMany()`, a zod-validated job type, default dedup (every input is distinct).
 */
import { JobEngine, sqliteStorage, type StorageAdapter } from '../../../src/index.js';
import { postgresStorage } from '../../../src/postgres.js';
import { noopEntries, noopType } from '../../job-types.js';
import { dropSchema } from '../pg.js';
import type { Peer, PeerOptions, SystemDef } from '../peer.js';

async function createJobwing(o: PeerOptions, storage: () => StorageAdapter): Promise<Peer> {
  const engine = new JobEngine({
    jobTypes: [noopType(o.onStart)],
    storage: storage(),
    worker: o.worker,
    concurrency: o.concurrency,
  });
  const errors: unknown[] = [];
  engine.on('engine:error', (e) => errors.push(e.error));
  // Completions are counted from job:status events, as an app with a dashboard sees them.
  if (o.onComplete) {
    const onComplete = o.onComplete;
    engine.on('job:status', (e) => {
      if (e.to === 'completed') onComplete();
    });
  }
  // A producer is started at once (submit needs a started engine); a worker on start().
  if (!o.worker) await engine.start();
  const sys = engine.system;
  return {
    async submit(n) {
      await sys.submit('bench-noop', { n, tag: 'bench' });
    },
    async submitMany(from, count) {
      await sys.submitMany(noopEntries(from, count));
    },
    async start() {
      await engine.start();
    },
    async close() {
      await engine.stop({ graceMs: 5_000 });
      if (errors.length > 0) process.stderr.write(`jobwing: ${errors.length} engine:error (first: ${String((errors[0] as Error)?.message ?? errors[0])})\n`);
    },
  };
}

function sqliteDef(sync: 'FULL' | 'NORMAL'): SystemDef {
  return {
    name: `jobwing-${sync.toLowerCase()}`,
    label: `jobwing SQLite ${sync}`,
    backend: 'sqlite',
    create: (o) => createJobwing(o, () => sqliteStorage({ path: o.loc.sqlitePath, synchronous: sync })),
  };
}

export const jobwingFull = sqliteDef('FULL');
export const jobwingNormal = sqliteDef('NORMAL');

export const jobwingPostgres: SystemDef = {
  name: 'jobwing-pg',
  label: 'jobwing Postgres',
  backend: 'postgres',
  async create(o) {
    if (o.fresh) await dropSchema(o.loc.pgUrl, o.loc.schema);
    return createJobwing(o, () => postgresStorage({ connectionString: o.loc.pgUrl, schema: o.loc.schema }));
  },
};
