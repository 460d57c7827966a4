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
 * 1. read the sequence's last value H under its lock ({@link eventHorizonSql}): every seq ≤ H
 *    has been handed out, and no seq > H has;
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
 * If a writer takes longer than EVENT_WAIT_MS (a stopped process, a foreign session left open),
 * the read delivers what is committed anyway and keeps the seq ranges it could not see as gaps
 * in the cursor, with the ids of the writers still running; once all of those have ended, the
 * next read delivers the gaps' rows first (review defect 9: one open transaction used to stop
 * every engine's events). A cursor holds at most MAX_CURSOR_GAPS gaps; past that, delivery
 * waits for the writers as before.
 */
import { ValidationError } from '../../errors.js';
import type { JobStatus } from '../../states.js';
import type { EventCursor, ReadEventsRequest, ReadEventsResult, StoreEvent } from '../adapter.js';
import { progressEventOf, statusEventOf } from '../sql/event-row.js';
import { raw, type PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';
import { eventHorizonSql } from './schema.js';

/** Longest wait, per read, for transactions holding earlier seqs to finish. */
export const EVENT_WAIT_MS = 250;

/** Most gaps (seq ranges held by stuck writers) one cursor remembers; beyond it, delivery waits. */
export const MAX_CURSOR_GAPS = 32;

/**
 * The reader's position: every seq ≤ `seq` was delivered, except the `gaps` (inclusive seq
 * ranges not yet visible when read), which are read once every writer in `writers` (xid8s
 * that were still running) has ended.
 */
interface TailPosition {
  seq: number;
  gaps: [number, number][];
  writers: string[];
}

function encodeEventCursor(p: TailPosition): EventCursor {
  const body = p.gaps.length === 0 ? { s: p.seq } : { s: p.seq, g: p.gaps, x: p.writers };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

function decodeEventCursor(cursor: EventCursor): TailPosition {
  const invalid = () => new ValidationError('Invalid event cursor', [{ path: ['cursor'], message: 'not a cursor returned by readEvents()' }]);
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,4000}$/.test(cursor)) throw invalid();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as { s?: unknown; g?: unknown; x?: unknown };
  const seqOk = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!seqOk(o.s)) throw invalid();
  if (o.g === undefined) return { seq: o.s, gaps: [], writers: [] };
  const gaps = o.g;
  const writers = o.x;
  if (!Array.isArray(gaps) || gaps.length > MAX_CURSOR_GAPS || !gaps.every((g) => Array.isArray(g) && g.length === 2 && seqOk(g[0]) && seqOk(g[1]) && g[0] <= g[1] && g[1] <= (o.s as number))) throw invalid();
  if (!Array.isArray(writers) || writers.length === 0 || writers.length > 64 || !writers.every((x) => typeof x === 'string' && /^[0-9]{1,20}$/.test(x))) throw invalid();
  return { seq: o.s, gaps: gaps as [number, number][], writers: writers as string[] };
}

interface EventRow {
  seq: number | null;
  kind: 'status' | 'progress' | 'horizon' | 'partial';
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
  return r.kind === 'status' ? statusEventOf(r) : progressEventOf(r);
}

/**
 * Events committed after `after`, at most `limit`, in seq order. `after: null` returns the
 * cursor of the current end (events of transactions still open at that moment are not
 * reported to this reader).
 */
export async function readEvents(conn: PgConnection, n: PgNames, req: ReadEventsRequest): Promise<ReadEventsResult> {
  if (req.after === null) {
    const [row] = await conn.query<{ last: number }>(
      raw(`SELECT ${eventHorizonSql(n)} AS last`),
      { prepare: true },
    );
    return { events: [], cursor: encodeEventCursor({ seq: row?.last ?? 0, gaps: [], writers: [] }) };
  }
  let pos = decodeEventCursor(req.after);
  if (req.limit <= 0) return { events: [], cursor: req.after };
  const events: StoreEvent[] = [];
  // Per event, the position right after it (SSE ids): resuming there repeats and skips nothing.
  const cursors: EventCursor[] = [];
  if (pos.gaps.length > 0) {
    // Gaps first: they are older than everything after the cursor.
    const late = await readGaps(conn, n, pos);
    if (late !== null) {
      const before = pos;
      for (const r of late) {
        events.push(toEvent(r));
        const rest = gapsAfter(before.gaps, Number(r.seq));
        cursors.push(encodeEventCursor({ seq: before.seq, gaps: rest, writers: rest.length > 0 ? before.writers : [] }));
      }
      pos = { seq: pos.seq, gaps: [], writers: [] };
    }
  }
  const rows = await conn.query<EventRow>(raw(`SELECT * FROM ${n.readEventsFn}($1, $2, $3)`, pos.seq, req.limit, EVENT_WAIT_MS), { prepare: true });
  const end = rows.find((r) => r.kind === 'horizon' || r.kind === 'partial');
  let eventRows = rows.filter((r) => r.kind === 'status' || r.kind === 'progress');
  const full = eventRows.length >= req.limit;
  if (end?.seq == null) return { events, cursor: encodeEventCursor(pos), cursors }; // (older function: nothing is final yet)
  // A full page stops at its last row; a short page means everything up to the horizon was read.
  let next = full && eventRows.length > 0 ? Number(eventRows[eventRows.length - 1]!.seq) : Math.max(pos.seq, Number(end.seq));
  if (end.kind === 'partial') {
    // Seqs in (pos.seq, next] that were not visible belong to the stuck writers (or to rolled
    // back or pruned work): remember them as gaps, to read once those writers have ended.
    const writers = [...new Set([...pos.writers, ...(end.message ?? '').split(',').filter(Boolean)])];
    const gaps = [...pos.gaps];
    let from = pos.seq + 1;
    const kept: EventRow[] = [];
    for (const r of eventRows) {
      const seq = Number(r.seq);
      if (seq > from) {
        if (gaps.length === MAX_CURSOR_GAPS) {
          next = from - 1; // no room to remember another gap: stop before it
          break;
        }
        gaps.push([from, seq - 1]);
      }
      kept.push(r);
      from = seq + 1;
    }
    if (from <= next) {
      if (gaps.length < MAX_CURSOR_GAPS) gaps.push([from, next]);
      else next = from - 1;
    }
    eventRows = kept;
    pos = gaps.length === 0 ? { seq: next, gaps: [], writers: [] } : { seq: next, gaps, writers };
  } else {
    pos = { seq: next, gaps: pos.gaps, writers: pos.writers };
  }
  for (const r of eventRows) {
    const seq = Number(r.seq);
    events.push(toEvent(r));
    const earlier = pos.gaps.filter((g) => g[1] < seq);
    cursors.push(encodeEventCursor({ seq, gaps: earlier, writers: earlier.length > 0 ? pos.writers : [] }));
  }
  return { events, cursor: encodeEventCursor(pos), cursors };
}

/** The parts of `gaps` after `seq`. */
function gapsAfter(gaps: [number, number][], seq: number): [number, number][] {
  return gaps.filter((g) => g[1] > seq).map((g): [number, number] => [Math.max(g[0], seq + 1), g[1]]);
}

/**
 * The rows in `pos.gaps`, once every writer that was still running has ended (null while one
 * still runs). Two statements: the check, then the read in a newer snapshot, so each row read
 * is final.
 */
async function readGaps(conn: PgConnection, n: PgNames, pos: TailPosition): Promise<EventRow[] | null> {
  const [state] = await conn.query<{ ended: boolean }>(
    raw(`SELECT bool_and(pg_visible_in_snapshot(x::xid8, pg_current_snapshot())) AS ended FROM unnest($1::text[]) AS x`, pos.writers),
  );
  if (!state?.ended) return null;
  const lo = pos.gaps.map((g) => g[0]);
  const hi = pos.gaps.map((g) => g[1]);
  return conn.query<EventRow>(
    raw(
      `SELECT u.* FROM (
         SELECT h.seq, 'status'::text AS kind, h.job_id, j.type, j.org_id, j.owner_id, h.at, h.from_status, h.to_status,
                h.attempt, h.error::text AS error, NULL::double precision AS progress, NULL::text AS message
         FROM unnest($1::bigint[], $2::bigint[]) AS g(lo, hi)
         JOIN ${n.history} h ON h.seq BETWEEN g.lo AND g.hi JOIN ${n.jobs} j ON j.id = h.job_id
         UNION ALL
         SELECT e.seq, 'progress'::text, e.job_id, j.type, j.org_id, j.owner_id, e.at, NULL::text, NULL::text,
                NULL::integer, NULL::text, e.progress, e.message
         FROM unnest($1::bigint[], $2::bigint[]) AS g(lo, hi)
         JOIN ${n.progress} e ON e.seq BETWEEN g.lo AND g.hi JOIN ${n.jobs} j ON j.id = e.job_id
       ) AS u ORDER BY u.seq`,
      lo,
      hi,
    ),
  );
}
