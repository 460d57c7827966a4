/**
 * The engine's own counters: attempts this process ran, by job type (and by org, for a
 * bounded number of orgs). Monotonic for the life of the engine, like any Prometheus counter;
 * each process counts what it ran, so a scrape of every worker (or a sum over them) is whole.
 * Always on: one map lookup and a few additions per attempt, nothing per submit but an org note.
 */

/** Histogram bucket bounds of attempt durations, in seconds (Prometheus `le`). */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Orgs tracked per process; activity of further orgs is counted in the totals only. */
export const MAX_TRACKED_ORGS = 1000;

/** Counters of one job type (or one org and type). */
export interface TypeCounters {
  /** Attempts that ended with a result (completed or failed). */
  count: number;
  /** Sum of their durations, seconds. */
  sumSeconds: number;
  /** Per bucket of {@link DURATION_BUCKETS_SECONDS}, NOT cumulative; the last entry is +Inf. */
  buckets: number[];
  /** Failed attempts (retried or dead-lettered). */
  failures: number;
}

function emptyCounters(): TypeCounters {
  return { count: 0, sumSeconds: 0, buckets: new Array<number>(DURATION_BUCKETS_SECONDS.length + 1).fill(0), failures: 0 };
}

/** What {@link AttemptCounters.record} needs to know of an ended attempt. */
export interface RecordedAttempt {
  type: string;
  orgId: string;
  durationSeconds: number;
  failed: boolean;
}

/** Counters of the attempts run by one engine. */
export class AttemptCounters {
  readonly byType = new Map<string, TypeCounters>();
  /** org → type → counters, for at most {@link MAX_TRACKED_ORGS} orgs. */
  readonly byOrg = new Map<string, Map<string, TypeCounters>>();
  /** org → submits and attempts seen here: which orgs are busiest (for capped org labels). */
  readonly orgActivity = new Map<string, number>();

  /** Notes a submit (or claim) of `orgId`. */
  noteOrg(orgId: string): void {
    const n = this.orgActivity.get(orgId);
    if (n !== undefined) this.orgActivity.set(orgId, n + 1);
    else if (this.orgActivity.size < MAX_TRACKED_ORGS) this.orgActivity.set(orgId, 1);
  }

  /** Counts one ended attempt. */
  record(a: RecordedAttempt): void {
    bump(this.#counters(this.byType, a.type), a);
    this.noteOrg(a.orgId);
    if (!this.orgActivity.has(a.orgId)) return;
    let types = this.byOrg.get(a.orgId);
    if (!types) this.byOrg.set(a.orgId, (types = new Map()));
    bump(this.#counters(types, a.type), a);
  }

  /** The `limit` busiest orgs seen here, busiest first (ties by name, for a stable output). */
  topOrgs(limit: number): string[] {
    return [...this.orgActivity.entries()]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .slice(0, limit)
      .map((e) => e[0]);
  }

  #counters(map: Map<string, TypeCounters>, type: string): TypeCounters {
    let c = map.get(type);
    if (!c) map.set(type, (c = emptyCounters()));
    return c;
  }
}

function bump(c: TypeCounters, a: RecordedAttempt): void {
  const seconds = Math.max(0, a.durationSeconds);
  c.count++;
  c.sumSeconds += seconds;
  let i = 0;
  while (i < DURATION_BUCKETS_SECONDS.length && seconds > DURATION_BUCKETS_SECONDS[i]!) i++;
  c.buckets[i]!++;
  if (a.failed) c.failures++;
}
