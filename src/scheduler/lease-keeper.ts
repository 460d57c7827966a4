/**
 * Heartbeats: renews the leases of every attempt running in this process every
 * `leaseMs / 3`, and turns what the store reports into aborts: a job canceled while running
 * aborts with 'canceled', a lease that is gone (rescued elsewhere) with 'lease_lost'.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { StorageAdapter } from '../storage/adapter.js';
import type { AbortReason } from '../states.js';

/** An attempt whose lease this worker holds: a running handler, or a prefetched job waiting. */
export interface LeasedAttempt {
  readonly job: { readonly id: string };
  readonly attempt: number;
  abort(reason: AbortReason): void;
}

/** Periodically renews the leases of running attempts. */
export class LeaseKeeper {
  #timer: TimerHandle | null = null;
  #beat: Promise<void> | null = null;
  #stopped = false;
  /** When a heartbeat last reached the store (epoch ms), for `engine.health()`. */
  lastHeartbeatAt: number | null = null;

  constructor(
    private readonly deps: {
      storage: StorageAdapter;
      clock: Clock;
      workerId: string;
      leaseMs: number;
      attempts: () => Iterable<LeasedAttempt>;
      /** Runs first on every beat (the loop hands back prefetched jobs that waited too long). */
      beforeBeat?: () => Promise<void>;
      reportError(error: unknown, source: string): void;
    },
  ) {}

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops heartbeats and waits for one in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.deps.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#beat;
  }

  /** Runs one heartbeat now (also used by tests through the fake clock). */
  async beat(): Promise<void> {
    await this.deps.beforeBeat?.();
    const runners = [...this.deps.attempts()];
    if (runners.length === 0) return;
    const byId = new Map(runners.map((r) => [r.job.id, r]));
    try {
      const res = await this.deps.storage.renewLeases({
        workerId: this.deps.workerId,
        leases: runners.map((r) => ({ jobId: r.job.id, attempt: r.attempt })),
        now: this.deps.clock.now(),
        leaseMs: this.deps.leaseMs,
      });
      this.lastHeartbeatAt = this.deps.clock.now();
      // Only abort attempts still running here: one that settled while the heartbeat was in
      // flight is reported lost too, and its committed result must not see an abort.
      const current = new Set(this.deps.attempts());
      const abort = (id: string, reason: 'canceled' | 'lease_lost') => {
        const runner = byId.get(id);
        if (runner && current.has(runner)) runner.abort(reason);
      };
      for (const id of res.canceled) abort(id, 'canceled');
      for (const id of res.lost) abort(id, 'lease_lost');
    } catch (error) {
      // Keep beating: a missed beat is harmless while the lease (3 beats long) has not expired.
      this.deps.reportError(error, 'heartbeat');
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.deps.clock.setTimeout(() => {
      this.#timer = null;
      this.#beat = this.beat().finally(() => {
        this.#beat = null;
        this.#schedule();
      });
    }, Math.max(1, Math.floor(this.deps.leaseMs / 3)));
  }
}
