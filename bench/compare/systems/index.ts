/**
 * Every benchmarked system, in column order. Each module is loaded only by the child process
 * that measures it, so one system's libraries never weigh on another's RSS or start-up.
 */
import type { Backend, SystemDef } from '../peer.js';

export interface SystemMeta {
  name: string;
  label: string;
  backend: Backend;
  load(): Promise<SystemDef>;
}

export const SYSTEMS: SystemMeta[] = [
  { name: 'raw', label: 'raw better-sqlite3 loop', backend: 'sqlite', load: async () => (await import('./raw-sqlite.js')).rawSqlite },
  { name: 'plainjob', label: 'plainjob (SQLite NORMAL)', backend: 'sqlite', load: async () => (await import('./plainjob.js')).plainjob },
  { name: 'bullmq', label: 'BullMQ (Redis)', backend: 'redis', load: async () => (await import('./bullmq.js')).bullmq },
  { name: 'graphile', label: 'graphile-worker tuned (PG)', backend: 'postgres', load: async () => (await import('./graphile-worker.js')).graphileWorker },
  { name: 'pgboss', label: 'pg-boss 10 (PG)', backend: 'postgres', load: async () => (await import('./pg-boss.js')).pgBoss },
  { name: 'jobwing-full', label: 'jobwing SQLite FULL', backend: 'sqlite', load: async () => (await import('./jobwing.js')).jobwingFull },
  { name: 'jobwing-normal', label: 'jobwing SQLite NORMAL', backend: 'sqlite', load: async () => (await import('./jobwing.js')).jobwingNormal },
  { name: 'jobwing-pg', label: 'jobwing Postgres', backend: 'postgres', load: async () => (await import('./jobwing.js')).jobwingPostgres },
];

/** Workloads a system cannot run, shown as "–" (the parent does not spawn them). */
export const UNSUPPORTED: Record<string, string[]> = {
  raw: ['latency-2p', 'latency-1p'],
};

/** The jobwing systems; the others are compared with them. */
export const JOBWING = ['jobwing-full', 'jobwing-normal', 'jobwing-pg'];

export function systemByName(name: string): SystemMeta {
  const s = SYSTEMS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown system "${name}" (known: ${SYSTEMS.map((x) => x.name).join(', ')})`);
  return s;
}
