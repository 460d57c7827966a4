/**
 * A recurring schedule as given to `new JobEngine({ schedules })`, validated and parsed once
 * at construction (bad cron, timezone or type → ValidationError there, never at 2 a.m.).
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { JobRegistry } from '../registry.js';
import { parseOrThrow } from '../validation.js';

/** What to do with ticks missed while no engine ran the schedule. */
export type CatchUp = 'latest' | 'none' | 'all';

/** One entry of the engine option `schedules`. */
export interface ScheduleDefinition {
  /** Unique; names the schedule in `schedules()`, `updateSchedule()`, dedup keys and the owner id. */
  name: string;
  /** croner syntax: 5 fields, or 6 with a leading seconds field (nicknames such as `@daily` too). */
  cron: string;
  /** IANA timezone the cron is read in. (Default: 'UTC') */
  timezone?: string;
  /** The job type each tick submits (must be one of the engine's `jobTypes`). */
  type: string;
  /** The input of every job (validated against the type's schema at each tick). */
  input?: unknown;
  /** Org of the jobs. (Default: 'default') */
  orgId?: string;
  /** (Default: 'latest') */
  catchUp?: CatchUp;
}

/** A validated schedule with its parsed cron. */
export interface ParsedSchedule {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly type: string;
  readonly input: unknown;
  readonly orgId: string;
  readonly catchUp: CatchUp;
  readonly pattern: Cron;
}

/** Most ticks a catch-up fires (`catchUp: 'all'`). */
export const MAX_CATCH_UP_TICKS = 100;

const definitionSchema = z
  .object({
    name: z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits, ".", "_", ":" and "-" only, starting with a letter or digit'),
    cron: z.string().min(1).max(200),
    timezone: z.string().min(1).max(100).optional(),
    type: z.string().min(1).max(200),
    input: z.unknown().optional(),
    orgId: z.string().min(1).max(100).optional(),
    catchUp: z.enum(['latest', 'none', 'all']).optional(),
  })
  .strict();

const schedulesSchema = z.array(definitionSchema).max(1000);

/** True when `tz` is an IANA timezone this runtime knows. */
function isTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Validates and parses every schedule.
 * @throws ValidationError naming `schedules[i].field` for a bad cron, timezone, unknown
 *   type, duplicate name or malformed entry
 */
export function parseSchedules(value: unknown, registry: JobRegistry): ParsedSchedule[] {
  const defs = parseOrThrow(schedulesSchema, value, 'JobEngine option schedules');
  const seen = new Set<string>();
  return defs.map((d, i) => {
    const fail = (field: string, message: string): never => {
      const issue: ValidationIssue = { path: ['schedules', i, field], message };
      throw new ValidationError(`Invalid JobEngine option schedules[${i}].${field} (schedule ${JSON.stringify(d.name)}): ${message}`, [issue]);
    };
    if (seen.has(d.name)) fail('name', 'two schedules have this name; names must be unique');
    seen.add(d.name);
    const timezone = d.timezone ?? 'UTC';
    if (!isTimezone(timezone)) fail('timezone', `${JSON.stringify(timezone)} is not an IANA timezone name (e.g. 'Europe/Berlin')`);
    const fields = d.cron.trim().split(/\s+/);
    if (!d.cron.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6) {
      fail('cron', `${JSON.stringify(d.cron)} has ${fields.length} fields; a cron has 5 fields, or 6 with a leading seconds field`);
    }
    let pattern: Cron;
    try {
      // No callback: croner only computes fire times; the engine's clock drives the ticks.
      pattern = new Cron(d.cron, { timezone });
    } catch (error) {
      return fail('cron', `${JSON.stringify(d.cron)} is not a valid cron expression: ${(error as Error).message}`);
    }
    if (!registry.has(d.type)) fail('type', `${JSON.stringify(d.type)} is not one of the engine's jobTypes`);
    return Object.freeze({
      name: d.name,
      cron: d.cron,
      timezone,
      type: d.type,
      input: d.input,
      orgId: d.orgId ?? 'default',
      catchUp: d.catchUp ?? 'latest',
      pattern,
    });
  });
}
