/**
 * The sending side of LISTEN/NOTIFY: after a commit that made jobs claimable or wrote events,
 * this process sends `pg_notify(channel, '<jobs|events>:<sender>')` — the kind of change and
 * a random id of the sending store (so it can ignore its own notices: the engine reacts to its
 * own writes, and the store tells its own subscribers directly), never job ids or input.
 *
 * Why after the commit and not inside the transaction (inserts of claimable jobs are the one
 * exception, see queries-insert.ts): Postgres serializes every committing
 * transaction that has a pending NOTIFY on one cluster-wide lock, held through the commit's
 * WAL flush, which disables group commit. Measured with pgbench on this project's 2-core CI
 * machine (8 clients, one small INSERT per transaction): 1,640 commits/s without a NOTIFY in
 * the transaction, 460/s with one. A notify
 * in its own statement has no xid, writes no WAL and holds that lock for microseconds. It also
 * cannot wake a listener before the data is visible. What is lost: a process that dies between
 * its commit and the notify sends none; other engines then see the change on their next poll.
 *
 * Bursts coalesce: at most one notify is in flight per store; changes made meanwhile are
 * announced by one more notify when it returns. 'events' notices are additionally spaced by
 * {@link EVENTS_NOTIFY_INTERVAL_MS}: other engines must see events within `pollIntervalMs`,
 * and a notice per settle batch would wake every engine hundreds of times a second for nothing.
 * 'jobs' notices go out at once: they are the submit-to-start latency.
 */
import { raw, type PgConnection } from './pg-connection.js';

/** Least spacing of 'events' notices from one store. */
export const EVENTS_NOTIFY_INTERVAL_MS = 25;

/** What changed. */
export type NoticeKind = 'jobs' | 'events';

/** Sends coalesced notices on one channel. */
export class Notifier {
  #pending: NoticeKind | null = null;
  #inFlight = false;
  #lastEventsAt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(
    private readonly conn: () => PgConnection | null,
    private readonly channel: string,
    private readonly sender: string,
  ) {}

  /** The payload of a notice of `kind` from this store. */
  payload(kind: NoticeKind): string {
    return `${kind}:${this.sender}`;
  }

  /** Announces a committed change. Never throws; a failed notify is covered by polling. */
  notify(kind: NoticeKind): void {
    if (this.#closed) return;
    this.#pending = this.#pending === 'jobs' || kind === 'jobs' ? 'jobs' : 'events';
    this.#pump();
  }

  #pump(): void {
    if (this.#inFlight || this.#pending === null || this.#closed) return;
    if (this.#pending === 'events') {
      const wait = this.#lastEventsAt + EVENTS_NOTIFY_INTERVAL_MS - Date.now();
      if (wait > 0) {
        this.#timer ??= setTimeout(() => {
          this.#timer = null;
          this.#pump();
        }, wait);
        return;
      }
    }
    const kind = this.#pending;
    const conn = this.conn();
    if (conn === null) return;
    this.#pending = null;
    this.#inFlight = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#lastEventsAt = Date.now();
    conn
      .query(raw('SELECT pg_notify($1, $2)', this.channel, this.payload(kind)), { prepare: true })
      .catch(() => undefined)
      .finally(() => {
        this.#inFlight = false;
        this.#pump();
      });
  }

  /** Stops sending (pending notices are dropped). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
