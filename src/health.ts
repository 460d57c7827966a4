/**
 * `engine.health()`: what a readiness or liveness probe needs, in one read-only call. The store
 * is pinged with a cheap indexed read; the scheduler loop counts as alive while it keeps
 * reaching the store (a claim or a heartbeat) at its normal pace.
 */
import { z } from 'zod';
import type { Clock, TimerHandle } from './clock.js';
import type { Maintenance } from './maintenance/maintenance.js';
import type { JobRegistry } from './registry.js';
import type { DispatchLoop } from './scheduler/dispatch-loop.js';
import type { StorageAdapter } from './storage/adapter.js';

/** Options of `engine.health()`. */
export interface HealthOptions {
  /** How long the store ping may take before the store counts as unreachable. (Default: 5_000) */
  timeoutMs?: number;
}

export const healthOptionsSchema = z.object({ timeoutMs: z.number().int().min(1).max(600_000).optional() }).strict();

/** The engine's health. `ok` is what a readiness probe should check. */
export interface EngineHealth {
  /** Started, the store answered, and (workers) the scheduler loop is alive. */
  ok: boolean;
  /** Lifecycle state of the engine. */
  state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped';
  checkedAt: Date;
  store: {
    /** null when the engine is not started (the store is not open). */
    reachable: boolean | null;
    /** Round trip of the ping, or null. */
    latencyMs: number | null;
    /** Why the ping failed, or null. */
    error: string | null;
  };
  /** null for `worker: false` engines. */
  scheduler: {
    /** The loop runs and reached the store (claim or heartbeat) within `staleAfterMs`. */
    alive: boolean;
    running: number;
    concurrency: number;
    lastClaimAt: Date | null;
    lastHeartbeatAt: Date | null;
    /** The longest a healthy loop goes without reaching the store: 3 × max(pollIntervalMs, leaseMs / 3). */
    staleAfterMs: number;
    /** The job types this worker claims (those with a handler). */
    jobTypes: readonly string[];
  } | null;
  maintenance: {
    /** This engine held maintenance leadership (rescue, promote, prune) at its last tick. */
    leader: boolean;
    lastTickAt: Date | null;
  };
}

/** What the probe reads from the engine. */
export interface HealthDeps {
  state(): EngineHealth['state'];
  storage: StorageAdapter;
  clock: Clock;
  registry: JobRegistry;
  loop: DispatchLoop | null;
  maintenance: Maintenance;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
}

const toDate = (ms: number | null) => (ms === null ? null : new Date(ms));

/** Reads the engine's health; never rejects. */
export async function checkHealth(d: HealthDeps, o: z.output<typeof healthOptionsSchema>): Promise<EngineHealth> {
  const state = d.state();
  const store = state === 'started' ? await ping(d.storage, d.clock, o.timeoutMs ?? 5_000) : { reachable: null, latencyMs: null, error: null };
  const now = d.clock.now();
  let scheduler: EngineHealth['scheduler'] = null;
  if (d.loop) {
    const s = d.loop.status;
    const staleAfterMs = 3 * Math.max(d.pollIntervalMs, Math.floor(d.leaseMs / 3));
    const last = Math.max(s.lastClaimAt ?? -Infinity, s.lastHeartbeatAt ?? -Infinity);
    scheduler = {
      alive: s.running && now - last <= staleAfterMs,
      running: d.loop.runningCount,
      concurrency: d.concurrency,
      lastClaimAt: toDate(s.lastClaimAt),
      lastHeartbeatAt: toDate(s.lastHeartbeatAt),
      staleAfterMs,
      jobTypes: d.registry.implementedNames(),
    };
  }
  return {
    ok: state === 'started' && store.reachable === true && (scheduler === null || scheduler.alive),
    state,
    checkedAt: new Date(now),
    store,
    scheduler,
    maintenance: { leader: d.maintenance.leader, lastTickAt: toDate(d.maintenance.lastTickAt) },
  };
}

/** A cheap indexed read, bounded by `timeoutMs`. */
async function ping(storage: StorageAdapter, clock: Clock, timeoutMs: number): Promise<EngineHealth['store']> {
  const started = clock.now();
  let timer: TimerHandle | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([storage.nextDueAt(), timeout]);
    return { reachable: true, latencyMs: clock.now() - started, error: null };
  } catch (error) {
    return { reachable: false, latencyMs: null, error: error instanceof Error ? error.message : String(error) };
  } finally {
    if (timer) clock.clearTimeout(timer);
  }
}
