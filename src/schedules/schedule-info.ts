/** What `admin.schedules()` returns for each schedule. */
import type { CatchUp } from './schedule-definition.js';

/** One recurring schedule, with its stored state. */
export interface ScheduleInfo {
  name: string;
  cron: string;
  timezone: string;
  type: string;
  orgId: string;
  catchUp: CatchUp;
  /** false after `updateSchedule(name, { enabled: false })`. */
  enabled: boolean;
  /** When the next tick fires; null while disabled (or for a cron that never fires again). */
  nextRunAt: Date | null;
  /** Fire time of the last tick that created a job, and that job's id. */
  lastRunAt: Date | null;
  lastJobId: string | null;
}

/** Changes accepted by `updateSchedule`. */
export interface ScheduleChanges {
  enabled: boolean;
}
