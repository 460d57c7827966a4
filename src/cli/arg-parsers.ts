/**
 * Parsers of flag values. Each throws commander's InvalidArgumentError, so a bad value is a
 * usage error (exit status 2) whose message names the flag and what it expects.
 */
import { InvalidArgumentError } from 'commander';
import { JOB_STATUSES, type JobStatus } from '../index.js';
import { parseDuration } from './parse-duration.js';

/** An integer in [min, max]. */
export function intIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

/** A duration such as `30d`. */
export function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message}.`);
  }
}

/** `24h` (that long ago) or an ISO-8601 instant. */
export function instant(value: string): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
    throw new InvalidArgumentError('not a valid ISO-8601 date, e.g. 2026-01-31T00:00:00Z.');
  }
  try {
    return new Date(Date.now() - parseDuration(value));
  } catch {
    throw new InvalidArgumentError('expected a duration back from now (e.g. 24h, 7d) or an ISO-8601 date.');
  }
}

/** Repeatable and comma-separated: `--status queued,running --status retrying`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new InvalidArgumentError('expected a non-empty value.');
  return [...(previous ?? []), ...parts];
}

/** Like {@link collect}, each a job status. */
export function collectStatuses(value: string, previous: JobStatus[] | undefined): JobStatus[] {
  const parts = collect(value, undefined);
  const bad = parts.find((p) => !(JOB_STATUSES as readonly string[]).includes(p));
  if (bad !== undefined) throw new InvalidArgumentError(`"${bad}" is not a status; use one of ${JOB_STATUSES.join(', ')}.`);
  return [...(previous ?? []), ...(parts as JobStatus[])];
}
