/**
 * Which ticks of a schedule to fire now: the catch-up rules in one pure function, so the
 * runner and the tests agree on them.
 */
import { MAX_CATCH_UP_TICKS, type ParsedSchedule } from './schedule-definition.js';

/** What a schedule has to do at `now`. */
export interface DueTicks {
  /** Fire times (epoch ms) to submit, oldest first. */
  fire: number[];
  /** Some tick after the cursor is due (fired or skipped): the cursor must move to `now`. */
  pending: boolean;
}

/**
 * The ticks in `(cursorAt, now]`, by `catchUp`:
 * - `'all'`: every one, oldest first, at most the {@link MAX_CATCH_UP_TICKS} most recent;
 * - `'latest'`: the most recent one only (on time, it is the only one);
 * - `'none'`: the most recent one only if it is at most `graceMs` old, else none. `graceMs`
 *   covers the normal lag of a tick (a lease handover between engines), so a tick is only
 *   "missed" when no engine ran the schedule around its fire time.
 */
export function dueTicks(schedule: ParsedSchedule, cursorAt: number, now: number, graceMs: number): DueTicks {
  if (now <= cursorAt) return { fire: [], pending: false };
  // previousRuns works in whole seconds and excludes its reference: a reference one second
  // later includes a tick at exactly `now`; the one extra tick it may add (after now) is dropped.
  const recent = schedule.pattern
    .previousRuns(MAX_CATCH_UP_TICKS + 1, new Date(now + 1000))
    .map((d) => d.getTime())
    .filter((t) => t > cursorAt && t <= now)
    .sort((a, b) => a - b)
    .slice(-MAX_CATCH_UP_TICKS);
  const latest = recent.at(-1);
  if (latest === undefined) return { fire: [], pending: false };
  switch (schedule.catchUp) {
    case 'all':
      return { fire: recent, pending: true };
    case 'latest':
      return { fire: [latest], pending: true };
    case 'none':
      return { fire: now - latest <= graceMs ? [latest] : [], pending: true };
  }
}

/** The next fire time strictly after `after` (epoch ms), or null if the cron never fires again. */
export function nextTick(schedule: ParsedSchedule, after: number): number | null {
  return schedule.pattern.nextRun(new Date(after))?.getTime() ?? null;
}
