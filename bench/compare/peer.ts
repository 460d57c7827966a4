/**
 * What every benchmarked system implements: submit one, submit a batch, run a worker.
 * Each system lives in systems/<name>.ts; the workloads (workloads.ts) only see this shape.
 */

/** Where one measurement's data lives. Every measurement gets a fresh one. */
export interface StoreLocation {
  /** SQLite file (SQLite systems). */
  sqlitePath: string;
  /** Postgres URL and the schema owned by this measurement (Postgres systems). */
  pgUrl: string;
  schema: string;
  /** Redis server and key prefix owned by this run (BullMQ). */
  redisHost: string;
  redisPort: number;
  redisPrefix: string;
}

export interface PeerOptions {
  loc: StoreLocation;
  /** Wipe the store first (schema, file, keys). Only the first peer of a measurement does. */
  fresh: boolean;
  /** false: a producer that never runs handlers. */
  worker: boolean;
  concurrency: number;
  /** Called on the handler's first line with the job's sequence number. */
  onStart?: (n: number) => void;
  /** Called when the system reports one job finished (its completion event, where it has one). */
  onComplete?: () => void;
}

export interface Peer {
  /** One job, awaited until the system acknowledges it. */
  submit(n: number): Promise<void>;
  /** `count` jobs in one call (the system's bulk insert). */
  submitMany(from: number, count: number): Promise<void>;
  /** Starts running handlers (worker peers); resolves once the worker is running. */
  start(): Promise<void>;
  /** Stops everything this peer opened: no timers or connections left. */
  close(): Promise<void>;
}

export type Backend = 'sqlite' | 'postgres' | 'redis';

export interface SystemDef {
  /** The name used by `--only` and in the results. */
  name: string;
  /** Column header. */
  label: string;
  backend: Backend;
  /** How this system counts completions in the drain, for the notes. */
  note?: string;
  create(o: PeerOptions): Promise<Peer>;
}

/** Every job's input: a sequence number and a short tag (distinct per job). */
export function payload(n: number): { n: number; tag: string } {
  return { n, tag: 'bench' };
}
