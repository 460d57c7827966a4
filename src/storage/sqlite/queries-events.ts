/**
 * `readEvents`: the cross-process event tail, read from `job_history` (status events) and
 * `job_progress_events`, each by its own AUTOINCREMENT `seq`.
 *
 * Why seq order is commit order here: SQLite has one writer at a time, and a row's seq is
 * assigned inside its write transaction, so a reader can never see seq N+1 committed while
 * seq N is still pending. (Postgres does not have this property; its store needs another way.)
 * AUTOINCREMENT (not plain rowid) guarantees seqs are never reused after deletions.
 */
import { ValidationError } from '../../errors.js';
import type { JobStatus } from '../../states.js';
import type { EventCursor, ReadEventsRequest, StoreEvent } from '../adapter.js';
import { toNumber } from '../sql/job-row.js';
import { progressEventOf, statusEventOf, type ProgressEventRow, type StatusEventRow } from '../sql/event-row.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';

/** Last seq consumed of each event table. */
interface EventPosition {
  history: number;
  progress: number;
}

function encodeEventCursor(p: EventPosition): EventCursor {
  return Buffer.from(JSON.stringify({ h: p.history, p: p.progress }), 'utf8').toString('base64url');
}

function decodeEventCursor(cursor: EventCursor): EventPosition {
  const invalid = () => new ValidationError('Invalid event cursor', [{ path: ['cursor'], message: 'not a cursor returned by readEvents()' }]);
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { h, p } = (typeof v === 'object' && v !== null ? v : {}) as { h?: unknown; p?: unknown };
  if (!Number.isSafeInteger(h) || !Number.isSafeInteger(p) || (h as number) < 0 || (p as number) < 0) throw invalid();
  return { history: h as number, progress: p as number };
}

type StatusRow = StatusEventRow & { seq: number };
type ProgressRow = ProgressEventRow & { seq: number };

// Inner join: events of jobs deleted meanwhile (pruned) are skipped.
const STATUS_AFTER = `SELECT h.seq, h.job_id, j.type, j.org_id, j.owner_id, h.at, h.from_status, h.to_status, h.attempt, h.error
  FROM job_history h JOIN jobs j ON j.id = h.job_id
  WHERE h.seq > ? ORDER BY h.seq LIMIT ?`;
const PROGRESS_AFTER = `SELECT e.seq, e.job_id, j.type, j.org_id, j.owner_id, e.at, e.progress, e.message
  FROM job_progress_events e JOIN jobs j ON j.id = e.job_id
  WHERE e.seq > ? ORDER BY e.seq LIMIT ?`;

/**
 * Events committed after `after`, at most `limit`. The two tables are merged by `at` (status
 * first on ties) while keeping each table's seq order, so each job's status events stay in
 * transition order and the cursor (last seq of each table) never skips an event.
 */
export function readEvents(conn: SqliteConnection, req: ReadEventsRequest): { events: StoreEvent[]; cursor: EventCursor; cursors?: EventCursor[] } {
  const start = req.after === null ? null : decodeEventCursor(req.after);
  return conn.read(() => {
    if (start === null) {
      const h = conn.get<{ m: number | null }>(raw('SELECT MAX(seq) AS m FROM job_history'))?.m ?? 0;
      const p = conn.get<{ m: number | null }>(raw('SELECT MAX(seq) AS m FROM job_progress_events'))?.m ?? 0;
      return { events: [], cursor: encodeEventCursor({ history: h, progress: p }) };
    }
    if (req.limit <= 0) return { events: [], cursor: encodeEventCursor(start) };
    const statuses = conn.all<StatusRow>(raw(STATUS_AFTER, start.history, req.limit));
    const progresses = conn.all<ProgressRow>(raw(PROGRESS_AFTER, start.progress, req.limit));
    const events: StoreEvent[] = [];
    const cursors: EventCursor[] = [];
    const pos: EventPosition = { ...start };
    let i = 0;
    let k = 0;
    while (events.length < req.limit && (i < statuses.length || k < progresses.length)) {
      const s = statuses[i];
      const p = progresses[k];
      if (s !== undefined && (p === undefined || s.at <= p.at)) {
        events.push(statusEventOf(s));
        pos.history = s.seq;
        i++;
      } else if (p !== undefined) {
        events.push(progressEventOf(p));
        pos.progress = p.seq;
        k++;
      }
      cursors.push(encodeEventCursor(pos));
    }
    return { events, cursor: encodeEventCursor(pos), cursors };
  });
}
