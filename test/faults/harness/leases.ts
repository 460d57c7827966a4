/**
 * The lease sampler: a running job whose lease is held by a dead worker must be rescued
 * within a bound once another engine is available. Sampled on a timer and on every wait.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { StoreSpec } from '../fixtures/worker-config.js';
import type { Violation } from './invariants.js';
import type { WorkerHandle } from './worker-handle.js';

/** A running job's lease as the store holds it. */
export interface LeaseRow {
  id: string;
  owner: string | null;
  expiresAt: number | null;
}

/** What the sampler reads and where it reports. */
export interface LeaseSamplerDeps {
  workers: readonly WorkerHandle[];
  /** Where a finding is pushed (the cluster's violations). */
  violations: Violation[];
  rescueBoundMs: () => number;
  closed: () => boolean;
  runningLeases: () => Promise<LeaseRow[]>;
}

/** Samples leases every `everyMs` once started; `sample()` also runs on demand (one at a time). */
export class LeaseSampler {
  #leaseTimer: NodeJS.Timeout | null = null;
  #leaseSampling: Promise<void> | null = null;
  #reportedLeases = new Set<string>();

  constructor(private readonly deps: LeaseSamplerDeps) {}

  /** Samples every `everyMs` until `stop()`. */
  start(everyMs = 200): void {
    if (this.#leaseTimer) return;
    const tick = () => {
      this.#leaseTimer = setTimeout(() => void this.sample().finally(tick), everyMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.#leaseTimer) clearTimeout(this.#leaseTimer);
    this.#leaseTimer = null;
    await this.#leaseSampling;
  }

  /**
   * Records a violation for each running job whose lease is held by a dead worker and expired
   * more than `rescueBoundMs` ago, counting only time during which some other engine was
   * available to rescue it.
   */
  sample(): Promise<void> {
    this.#leaseSampling ??= this.#sampleLeases().finally(() => (this.#leaseSampling = null));
    return this.#leaseSampling;
  }

  async #sampleLeases(): Promise<void> {
    if (this.deps.closed()) return;
    const rows = await this.deps.runningLeases();
    const now = Date.now();
    const workers = this.deps.workers;
    const bound = this.deps.rescueBoundMs();
    const dead = new Map(workers.filter((w) => !w.alive).map((w) => [w.id, w]));
    const rescuerSince = Math.min(...workers.filter((w) => w.available && w.availableSince !== null).map((w) => w.availableSince!));
    if (!Number.isFinite(rescuerSince)) return;
    for (const r of rows) {
      if (r.owner === null || r.expiresAt === null) continue;
      const owner = dead.get(r.owner);
      if (!owner) continue;
      const since = Math.max(r.expiresAt, rescuerSince, owner.exitedAt ?? 0);
      const key = `${r.id}/${r.owner}`;
      if (now - since > bound && !this.#reportedLeases.has(key)) {
        this.#reportedLeases.add(key);
        this.deps.violations.push({ rule: 'lease-held-by-dead-worker', jobId: r.id, detail: `lease of dead worker ${r.owner} expired at ${new Date(r.expiresAt).toISOString()}, still running ${now - since} ms after a rescuer was available (bound ${bound} ms)` });
      }
    }
  }
}

/** The leases of running jobs, read past the seam (it has no such read) on the harness's raw connection. */
export async function runningLeases(spec: StoreSpec, sqliteReader: Database.Database | null, pgAdmin: pg.Client | null): Promise<LeaseRow[]> {
  const toMs = (v: unknown): number | null => (v === null || v === undefined ? null : v instanceof Date ? v.getTime() : Number(v));
  if (sqliteReader) {
    const rows = sqliteReader.prepare(`SELECT id, lease_owner, lease_expires_at FROM jobs WHERE status = 'running'`).all() as { id: string; lease_owner: string | null; lease_expires_at: number | null }[];
    return rows.map((r) => ({ id: r.id, owner: r.lease_owner, expiresAt: toMs(r.lease_expires_at) }));
  }
  const schema = (spec as { schema: string }).schema;
  const res = await pgAdmin!.query(`SELECT id, lease_owner, lease_expires_at FROM "${schema}".jobs WHERE status = 'running'`);
  return res.rows.map((r: { id: string; lease_owner: string | null; lease_expires_at: unknown }) => ({ id: r.id, owner: r.lease_owner, expiresAt: toMs(r.lease_expires_at) }));
}
