/**
 * `readEvents`: the cross-process event tail over `job_history` (status events) and
 * `job_progress_events`, whose rows share one sequence (`event_seq`). The cursor is the last
 * seq delivered.
 *
 * The problem: sequence order is not commit order in Postgres. Transaction A takes seq 10,
 * B takes seq 11 and commits first; a reader that then delivers 11 and moves its cursor past it
 * never sees 10 when A commits. Two transactions can run side by side, so a plain `seq > cursor`
 * tail skips events.
 *
 * The fix (`read_events` in schema.ts, one round trip):
 * 1. read the sequence's last value H: every seq ≤ H has been handed out;
 * 2. then find the transactions that may still hold one: running transactions (the snapshot's
 *    in-progress list) that hold a RowExclusiveLock on the history or progress table of this
 *    schema (`pg_locks`). An inserter takes that lock before its row's seq, and
 *    `next_event_seq()` assigns its transaction id before the seq, so no holder is missed;
 * 3. wait until exactly those end (polling `pg_xact_status` inside the database, bounded by
 *    {@link EVENT_WAIT_MS}); transactions starting later only get seqs > H, and transactions
 *    that never wrote events here (other schemas, other applications, a long migration) are
 *    not waited for;
 * 4. read the rows with cursor < seq ≤ H in seq order, in a new statement (new snapshot).
 * Every row up to H is final when read, so none is skipped, and the cursor only moves forward,
 * so none is repeated. Seq order keeps each job's events in the order of its transitions: a
 * transition is written while holding the job's row lock, after the previous one committed.
 *
 * Alternatives measured or considered and rejected: stamping rows from a counter row locked
 * until commit (exact commit order, but it serializes every event-writing commit and its WAL
 * flush: ~250 commits/s on a disk with 3.5 ms fsync), and reading only rows whose transaction
 * id is below the snapshot's xmin (breaks a job's transition order when an older transaction
 * commits a later transition, and delivers nothing while any transaction on the server is open).
 *
 * If our own writers take longer than EVENT_WAIT_MS (a stuck session), the read returns no
 * events and the same cursor; the next poke or poll reads again.
 */
import { ValidationError } from '../../errors.js';
import type { JobStatus } from '../../states.js';
import type { EventCursor, StoreEvent } from '../adapter.js';
import { parseJobError } from '../sql/job-row.js';
import { raw, type PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

/** Longest wait, per read, for transactions holding earlier seqs to finish. */
export const EVENT_WAIT_MS = 250;

function encodeEventCursor(seq: number): EventCursor {
  return Buffer.from(JSON.stringify({ s: seq }), 'utf8').toString('base64url');
}

function decodeEventCursor(cursor: EventCursor): number {
  const invalid = () => new ValidationError('Invalid event cursor', [{ path: ['cursor'], message: 'not a cursor returned by readEvents()' }]);
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const s = (typeof v === 'object' && v !== null ? v : {}) as { s?: unknown };
  if (!Number.isSafeInteger(s.s) || (s.s as number) < 0) throw invalid();
  return s.s as number;
}

interface EventRow {
  seq: number | null;
  kind: 'status' | 'progress' | 'horizon';
  job_id: string;
  type: string;
  org_id: string;
  owner_id: string;
  at: number;
  from_status: JobStatus | null;
  to_status: JobStatus;
  attempt: number;
  error: string | null;
  progress: number;
  message: string | null;
}

function toEvent(r: EventRow): StoreEvent {
  const base = { jobId: r.job_id, type: r.type, orgId: r.org_id, ownerId: r.owner_id, at: new Date(r.at) };
  if (r.kind === 'status') {
    return { kind: 'status', event: { ...base, from: r.from_status, to: r.to_status, attempt: r.attempt, error: parseJobError(r.error) } };
  }
  return { kind: 'progress', event: { ...base, progress: r.progress, message: r.message } };
}

/**
 * Events committed after `after`, at most `limit`, in seq order. `after: null` returns the
 * cursor of the current end (events of transactions still open at that moment are not
 * reported to this reader).
 */
export async function readEvents(conn: PgConnection, n: PgNames, req: { after: EventCursor | null; limit: number }): Promise<{ events: StoreEvent[]; cursor: EventCursor; cursors?: EventCursor[] }> {
  if (req.after === null) {
    const [row] = await conn.query<{ last: number }>(
      raw(`SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS last FROM ${n.eventSeq}`),
      { prepare: true },
    );
    return { events: [], cursor: encodeEventCursor(row?.last ?? 0) };
  }
  const after = decodeEventCursor(req.after);
  if (req.limit <= 0) return { events: [], cursor: req.after };
  const rows = await conn.query<EventRow>(raw(`SELECT * FROM ${n.readEventsFn}($1, $2, $3)`, after, req.limit, EVENT_WAIT_MS), { prepare: true });
  const horizon = rows.find((r) => r.kind === 'horizon');
  if (horizon?.seq == null) return { events: [], cursor: req.after }; // timed out: nothing is final yet
  const eventRows = rows.filter((r) => r.kind !== 'horizon');
  const last = eventRows[eventRows.length - 1];
  // A full page stops at its last row; a short page means everything up to the horizon was read.
  const next = eventRows.length >= req.limit && last?.seq != null ? last.seq : Math.max(after, horizon.seq);
  // Each row's own seq is the position right after it: every seq up to it is final.
  return { events: eventRows.map(toEvent), cursor: encodeEventCursor(next), cursors: eventRows.map((r) => encodeEventCursor(r.seq!)) };
}
