/**
 * Background upkeep, run by one elected leader among the engines sharing a store:
 * rescue expired leases, promote due scheduled/retrying jobs (so metrics stay right even
 * without workers), trim old progress events, and prune finished jobs daily. Leadership is a lease in the store, renewed
 * every tick; when the leader dies another engine takes over after `leaseMs`.
 *
 * Pruning a large backlog can take longer than the lease, so it runs beside the ticks, never
 * inside one: the ticks keep renewing leadership and rescuing meanwhile, and the pruner renews
 * leadership before each batch and stops as soon as this engine is no longer the leader, so two
 * engines never prune at once (review defect 10: a prune inside the tick outlasted the lease,
 * a second engine took over and pruned too, and nothing was rescued in the meantime).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { JobRegistry } from '../registry.js';
import type { StorageAdapter } from '../storage/adapter.js';
import { pruneFinishedJobs } from './pruner.js';
import { rescueExpiredLeases } from './rescuer.js';

const DAY_MS = 86_400_000;
/**
 * Progress events only feed the cross-process event tail, which readers poll every
 * `pollIntervalMs`; events older than this are deleted (in bounded batches) every tick, so the
 * table stays small even when no job is ever pruned.
 */
export const PROGRESS_EVENT_RETENTION_MS = 60 * 60 * 1000;

/** Options of {@link Maintenance}. */
export interface MaintenanceOptions {
  storage: StorageAdapter;
  registry: JobRegistry;
  clock: Clock;
  workerId: string;
  leaseMs: number;
  retentionMaxAgeMs: number;
  random: () => number;
  reportError(error: unknown, source: string): void;
}

/** Runs the leader-gated maintenance tick every `leaseMs / 3`. */
export class Maintenance {
  #timer: TimerHandle | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;
  #lastPruneAt: number | null = null;
  #pruning: Promise<void> | null = null;
  /** Set by stop(): a prune in progress ends after its current batch. */
  #stopping = false;
  /** Whether the last tick held maintenance leadership, and when it ran (for `engine.health()`). */
  leader = false;
  lastTickAt: number | null = null;

  constructor(private readonly o: MaintenanceOptions) {}

  start(): void {
    this.#stopped = false;
    this.#stopping = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
    await this.#pruning;
    // Hand leadership over at once instead of leaving it to expire (leaseMs): a lease renewed
    // with ttl 0 ends now, and only if it is still ours.
    if (this.leader) {
      this.leader = false;
      const { storage, clock, workerId } = this.o;
      await storage.acquireLeadership({ name: 'maintenance', ownerId: workerId, now: clock.now(), ttlMs: 0 }).catch((error: unknown) => this.o.reportError(error, 'maintenance'));
    }
  }

  /** Resolves when no prune is running (for tests and `drain`). */
  async pruneIdle(): Promise<void> {
    await this.#pruning;
  }

  /** One maintenance pass; exposed so tests and `drain` can run it on demand. */
  async tick(): Promise<void> {
    const { storage, clock, workerId, leaseMs } = this.o;
    const leader = await storage.acquireLeadership({ name: 'maintenance', ownerId: workerId, now: clock.now(), ttlMs: leaseMs });
    this.leader = leader;
    this.lastTickAt = clock.now();
    if (!leader) return;
    await rescueExpiredLeases({ ...this.o, limit: 500 });
    await storage.promoteDueJobs({ now: clock.now(), limit: 1000 });
    await storage.pruneProgressEvents({ before: clock.now() - PROGRESS_EVENT_RETENTION_MS, limit: 1000 });
    const now = clock.now();
    if (this.#pruning === null && (this.#lastPruneAt === null || now - this.#lastPruneAt >= DAY_MS)) {
      this.#lastPruneAt = now;
      this.#pruning = this.#prune(now - this.o.retentionMaxAgeMs)
        .catch((error: unknown) => this.o.reportError(error, 'maintenance'))
        .finally(() => {
          this.#pruning = null;
        });
    }
  }

  async #prune(finishedBefore: number): Promise<void> {
    const { storage, clock, workerId, leaseMs } = this.o;
    await pruneFinishedJobs(storage, finishedBefore, async () => {
      if (this.#stopping) return false;
      return storage.acquireLeadership({ name: 'maintenance', ownerId: workerId, now: clock.now(), ttlMs: leaseMs });
    });
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = this.o.clock.setTimeout(() => {
      this.#timer = null;
      this.#running = this.tick()
        .catch((error: unknown) => this.o.reportError(error, 'maintenance'))
        .finally(() => {
          this.#running = null;
          this.#schedule(Math.max(1, Math.floor(this.o.leaseMs / 3)));
        });
    }, delay);
  }
}
