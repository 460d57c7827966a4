/**
 * Fires recurring schedules. Every engine runs one (worker or not); the timer sleeps until
 * the next fire time on the engine's clock (at most {@link MAX_SLEEP_MS}, so a wall-clock
 * jump is noticed), then the engine that holds the store's `schedules` lease submits the due
 * ticks and moves the schedule's cursor.
 *
 * Why a lease of its own, taken at fire time, and not the maintenance leader or every engine:
 * - exactly one job per tick does not depend on it: each tick's job carries the dedupKey
 *   `schedule:<name>:<fire time ISO>` (dedup forced on for at least {@link SCHEDULE_DEDUP_WINDOW_MS}
 *   whatever the type's window), and the stored cursor only moves forward, so two engines
 *   that both fire (a lease handover mid-tick) still make one job;
 * - the lease makes one engine do the work instead of N engines each inserting and N - 1
 *   of them being refused as duplicates at every tick;
 * - the maintenance leader ticks every leaseMs / 3 (10 s by default), too coarse for a cron
 *   with seconds, and it is busy rescuing and pruning; here every engine wakes at the fire
 *   time itself, so when the last holder died, the next engine takes over at once for a
 *   sparse cron (its lease had expired), and within leaseMs for a frequent one.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { JobwingError, ValidationError } from '../errors.js';
import type { StorageAdapter, StoredSchedule } from '../storage/adapter.js';
import { dueTicks, nextTick } from './due-ticks.js';
import type { ParsedSchedule } from './schedule-definition.js';
import type { ScheduleChanges, ScheduleInfo } from './schedule-info.js';
import { z } from 'zod';
import { parseOrThrow } from '../validation.js';

/** Longest sleep between checks. */
export const MAX_SLEEP_MS = 60_000;
/** Shortest dedup window of a schedule's jobs: far longer than any stall of a lease holder. */
export const SCHEDULE_DEDUP_WINDOW_MS = 7 * 86_400_000;
/** Errors of one tick's submit that skip the tick (retrying cannot help) instead of retrying it. */
const SKIP_CODES = new Set(['VALIDATION', 'UNKNOWN_JOB_TYPE', 'JOB_TYPE_DISABLED', 'PERMISSION_DENIED', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND']);

/** What a runner needs from its engine. */
export interface ScheduleRunnerDeps {
  storage: StorageAdapter;
  clock: Clock;
  workerId: string;
  leaseMs: number;
  pollIntervalMs: number;
  schedules: readonly ParsedSchedule[];
  /** Submits the job of one tick; resolves with its id (the existing job's id for a duplicate). */
  submitTick(schedule: ParsedSchedule, fireAt: number): Promise<string>;
  reportError(error: unknown, source: string): void;
}

const changesSchema = z.object({ enabled: z.boolean() }).strict();

type ScheduleStore = Required<Pick<StorageAdapter, 'loadSchedules' | 'updateSchedule' | 'advanceSchedule' | 'listScheduleAudit'>>;

/** The store's schedule methods, or a ValidationError when it has none (a store older than them). */
export function scheduleStore(storage: StorageAdapter): ScheduleStore {
  const s = storage;
  if (!s.loadSchedules || !s.updateSchedule || !s.advanceSchedule || !s.listScheduleAudit) {
    throw new ValidationError('JobEngine option schedules needs a store with loadSchedules, updateSchedule, advanceSchedule and listScheduleAudit (see the storage seam)', [
      { path: ['schedules'], message: 'the store does not support schedules' },
    ]);
  }
  return s as ScheduleStore;
}

/** Runs the ticks of every schedule of one engine. */
export class ScheduleRunner {
  readonly #d: ScheduleRunnerDeps;
  /** Null without schedules: then the store need not support them. */
  readonly #store: ScheduleStore | null;
  readonly #byName: Map<string, ParsedSchedule>;
  /** Ticks are "missed" (catchUp 'none') only when later than this. */
  readonly #graceMs: number;
  #timer: TimerHandle | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;
  /**
   * The last pass could not finish its due work (another engine held the lease, or the store
   * failed): look again after pollIntervalMs, not at once.
   */
  #deferred = false;
  /**
   * Per schedule: every tick at or before this instant is known to be handled or skipped
   * (a stored cursor, which only moves forward, or the time a pass saw it disabled). Lets a
   * wake with nothing due skip the store.
   */
  readonly #seenUpTo = new Map<string, number>();

  constructor(deps: ScheduleRunnerDeps) {
    this.#d = deps;
    this.#store = deps.schedules.length === 0 ? null : scheduleStore(deps.storage);
    this.#byName = new Map(deps.schedules.map((s) => [s.name, s]));
    this.#graceMs = deps.leaseMs + deps.pollIntervalMs;
  }

  start(): void {
    if (this.#d.schedules.length === 0) return; // no schedules: no timer, no queries
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** Resolves when no tick is in progress (for `drain` and tests). */
  async idle(): Promise<void> {
    await this.#running;
  }

  /** Every schedule with its stored state. */
  async list(): Promise<ScheduleInfo[]> {
    const states = await this.#states();
    const now = this.#d.clock.now();
    return this.#d.schedules.map((s) => this.#info(s, states.get(s.name), now));
  }

  /**
   * Enables or disables a schedule (persisted, audited, in force on every engine at its next tick).
   * @throws ValidationError for an unknown name or bad changes
   */
  async update(name: unknown, changes: unknown, actorId: string): Promise<ScheduleInfo> {
    const schedule = typeof name === 'string' ? this.#byName.get(name) : undefined;
    if (!schedule || !this.#store) {
      throw new ValidationError(`Unknown schedule ${JSON.stringify(String(name).slice(0, 100))}: it is not in the engine option schedules`, [{ path: ['name'], message: 'unknown schedule' }]);
    }
    const c: ScheduleChanges = parseOrThrow(changesSchema, changes, 'schedule changes');
    const now = this.#d.clock.now();
    await this.#store!.updateSchedule({ name: schedule.name, enabled: c.enabled, actorId, now });
    return this.#info(schedule, (await this.#states()).get(schedule.name), now);
  }

  /** One pass: fires what is due if this engine holds the schedules lease. */
  async tick(): Promise<void> {
    const { clock, storage, workerId, leaseMs } = this.#d;
    const now = clock.now();
    if (!this.#deferred && this.#d.schedules.every((s) => this.#knownIdle(s, now))) return;
    const states = await this.#states();
    const work: { schedule: ParsedSchedule; fire: number[] }[] = [];
    for (const schedule of this.#d.schedules) {
      const state = states.get(schedule.name);
      if (state?.enabled === false) {
        this.#seenUpTo.set(schedule.name, now); // ticks of a disabled schedule are skipped
        continue;
      }
      if (state?.cursorAt != null) this.#seenUpTo.set(schedule.name, state.cursorAt);
      // First sight of a schedule: its ticks start now (nothing before it was "missed").
      if (state?.cursorAt === null || state?.cursorAt === undefined) work.push({ schedule, fire: [] });
      else {
        const due = dueTicks(schedule, state.cursorAt, now, this.#graceMs);
        if (due.pending) work.push({ schedule, fire: due.fire });
      }
    }
    this.#deferred = false;
    if (work.length === 0) return;
    if (!(await storage.acquireLeadership({ name: 'schedules', ownerId: workerId, now, ttlMs: leaseMs }))) {
      // The holder normally fires it within moments; if it died, take over when its lease ends.
      this.#deferred = true;
      return;
    }
    for (const { schedule, fire } of work) {
      if (!(await this.#fire(schedule, fire, now))) this.#deferred = true;
    }
  }

  /** Submits the ticks and moves the cursor; false when a store error left some for later. */
  async #fire(schedule: ParsedSchedule, fire: number[], now: number): Promise<boolean> {
    let last: { at: number; jobId: string } | null = null;
    for (const at of fire) {
      try {
        last = { at, jobId: await this.#d.submitTick(schedule, at) };
      } catch (error) {
        this.#d.reportError(error, `schedule:${schedule.name}`);
        // A store error: leave the cursor, so the next pass tries this tick again (dedup keeps
        // it to one job). A refused submit (disabled type, bad input): skip the tick.
        if (!(error instanceof JobwingError && SKIP_CODES.has(error.code))) {
          if (last) await this.#store!.advanceSchedule({ name: schedule.name, cursorAt: last.at, lastRunAt: last.at, lastJobId: last.jobId, now });
          return false;
        }
      }
    }
    await this.#store!.advanceSchedule({ name: schedule.name, cursorAt: now, lastRunAt: last?.at ?? null, lastJobId: last?.jobId ?? null, now });
    this.#seenUpTo.set(schedule.name, now);
    return true;
  }

  /** True when the schedule certainly has nothing due at `now` (no store read needed). */
  #knownIdle(s: ParsedSchedule, now: number): boolean {
    const seen = this.#seenUpTo.get(s.name);
    if (seen === undefined) return false;
    const next = nextTick(s, seen);
    return next === null || next > now;
  }

  async #states(): Promise<Map<string, StoredSchedule>> {
    if (!this.#store) return new Map();
    return new Map((await this.#store.loadSchedules()).map((s) => [s.name, s]));
  }

  #info(s: ParsedSchedule, state: StoredSchedule | undefined, now: number): ScheduleInfo {
    const enabled = state?.enabled !== false;
    const next = enabled ? nextTick(s, Math.max(now - 1, state?.cursorAt ?? now - 1)) : null;
    return {
      name: s.name,
      cron: s.cron,
      timezone: s.timezone,
      type: s.type,
      orgId: s.orgId,
      catchUp: s.catchUp,
      enabled,
      nextRunAt: next === null ? null : new Date(next),
      lastRunAt: state?.lastRunAt == null ? null : new Date(state.lastRunAt),
      lastJobId: state?.lastJobId ?? null,
    };
  }

  /** Sleeps until the earliest next tick of any schedule (capped), then ticks. */
  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = this.#d.clock.setTimeout(() => {
      this.#timer = null;
      this.#running = this.tick()
        .catch((error: unknown) => {
          this.#deferred = true;
          this.#d.reportError(error, 'schedules');
        })
        .finally(() => {
          this.#running = null;
          this.#schedule(this.#sleepMs());
        });
    }, delay);
  }

  /**
   * Until the first tick after what is known handled: 0 when one already came while the last
   * pass ran (a slow store), so it fires now rather than being caught up (or skipped) later.
   */
  #sleepMs(): number {
    const now = this.#d.clock.now();
    if (this.#deferred) return this.#d.pollIntervalMs;
    let next = now + MAX_SLEEP_MS;
    for (const s of this.#d.schedules) {
      const t = nextTick(s, this.#seenUpTo.get(s.name) ?? now);
      if (t !== null && t < next) next = t;
    }
    return Math.max(0, next - now);
  }
}
