/**
 * `GET /events`: Server-Sent Events of the jobs an actor may see.
 *
 * Each connection tails the store's event log from its own cursor (`client.readEvents`,
 * scoped like the client), so a reconnect with `Last-Event-ID` continues exactly after the
 * last event the browser received: nothing missed, nothing twice, across processes and
 * restarts, as long as the events are retained. Live delivery needs no second path: the
 * engine's own event feed wakes the connection, which then reads what is new.
 *
 * Backpressure: the stream's queue holds at most `maxBufferedBytes` (plus one event). While
 * it is full the connection reads nothing more (the events wait in the store, not in
 * memory). A client that has not drained any of a full buffer between two heartbeats is
 * dropped (the stream errors, so the connection closes and memory is freed); it reconnects
 * with its Last-Event-ID and resumes.
 *
 * Timers: one heartbeat timer per connection, on the engine's clock, cleared when the client
 * goes away, the stream is canceled, or the engine begins to stop.
 */
import type { JobClient } from '../client.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { JobEngine } from '../engine.js';
import type { JobEventRecord } from '../types.js';

/** Tunables of the event stream. */
export interface EventStreamSettings {
  /** A comment line at least this often, so proxies keep the connection open. */
  heartbeatMs: number;
  /** Most bytes queued for one slow client before it stops being fed (and is then dropped). */
  maxBufferedBytes: number;
  /** Events read from the store per read. */
  pageSize: number;
  /** Reconnect delay suggested to the browser (the SSE `retry:` field). */
  retryMs: number;
}

/** Why a stream ended on our side. */
export class SlowClientError extends Error {
  constructor(bufferedBytes: number) {
    super(`Event stream dropped: the client did not read ${bufferedBytes} buffered bytes; reconnect with Last-Event-ID`);
    this.name = 'SlowClientError';
  }
}

const encoder = new TextEncoder();

/** One SSE frame of a record. The JSON has no raw newlines, so one `data:` line suffices. */
function frame(r: JobEventRecord): string {
  return `id: ${r.cursor}\nevent: ${r.name}\ndata: ${JSON.stringify(r.event)}\n\n`;
}

/**
 * Drops progress events superseded by a later progress of the same job in the same page,
 * unless a status event of that job lies between (the last progress of each attempt stays).
 */
export function coalesceProgress(items: readonly JobEventRecord[]): JobEventRecord[] {
  const later = new Set<string>();
  const kept: JobEventRecord[] = [];
  for (let i = items.length - 1; i >= 0; i--) {
    const r = items[i]!;
    if (r.name === 'job:status') {
      later.delete(r.event.jobId);
      kept.push(r);
    } else if (!later.has(r.event.jobId)) {
      later.add(r.event.jobId);
      kept.push(r);
    }
  }
  return kept.reverse();
}

/** Arguments of {@link openEventStream}. */
export interface OpenEventStreamArgs {
  engine: JobEngine;
  client: JobClient;
  clock: Clock;
  /** The `Last-Event-ID` header, if any. */
  lastEventId: string | null;
  jobId?: string;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  settings: EventStreamSettings;
}

/**
 * Validates the request (job visible, cursor well-formed) BEFORE answering, so errors are
 * ordinary JSON errors; then returns the streaming response.
 * @throws JobNotFoundError, ValidationError (a malformed Last-Event-ID)
 */
export async function openEventStream(args: OpenEventStreamArgs): Promise<Response> {
  const { client, jobId, settings } = args;
  if (jobId !== undefined) await client.get(jobId);
  const first = args.lastEventId
    ? await client.readEvents({ after: args.lastEventId, limit: settings.pageSize, jobId })
    : await client.readEvents({ jobId });
  const session = new EventStreamSession(args, first.cursor, args.lastEventId ? coalesceProgress(first.items) : []);
  const body = new ReadableStream<Uint8Array>(
    {
      start: (controller) => session.start(controller),
      pull: () => session.onRoom(),
      cancel: () => session.close(),
    },
    new ByteLengthQueuingStrategy({ highWaterMark: settings.maxBufferedBytes }),
  );
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx and some other proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    },
  });
}

class EventStreamSession {
  readonly #a: OpenEventStreamArgs;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** Position after everything written or skipped (the backlog not included). */
  #cursor: string;
  /** Records read but not yet written (the buffer was full), and the cursor after them. */
  #backlog: JobEventRecord[];
  #backlogEnd: string;
  /** The id the client will resume from (last `id:` written). */
  #lastSentId: string | null = null;
  #reading = false;
  #again = false;
  #waitingForRoom = false;
  #closed = false;
  #timer: TimerHandle | null = null;
  /** Queued bytes at the previous heartbeat, when the buffer was full then. */
  #fullAtLastTick: number | null = null;
  readonly #cleanups: (() => void)[] = [];

  constructor(args: OpenEventStreamArgs, cursor: string, backlog: JobEventRecord[]) {
    this.#a = args;
    this.#cursor = args.lastEventId ?? cursor;
    this.#backlog = backlog;
    this.#backlogEnd = cursor;
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
    const { client, engine, signal, jobId } = this.#a;
    if (signal.aborted) return this.close();
    const wake = (e: { jobId: string }) => {
      if (jobId === undefined || e.jobId === jobId) void this.#pump();
    };
    this.#cleanups.push(client.on('job:status', wake), client.on('job:progress', wake));
    const onStopping = () => this.close();
    engine.on('engine:stopping', onStopping);
    this.#cleanups.push(() => engine.off('engine:stopping', onStopping));
    const onAbort = () => this.close();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#cleanups.push(() => signal.removeEventListener('abort', onAbort));
    // The first id makes even an idle connection resumable from the moment it opened.
    const firstId = this.#backlog.length > 0 ? '' : `id: ${this.#backlogEnd}\n`;
    if (firstId) this.#lastSentId = this.#backlogEnd;
    this.#write(`retry: ${this.#a.settings.retryMs}\n${firstId}: connected\n\n`);
    this.#schedule();
    // Reads at once: events committed between the first read and the listeners above count.
    void this.#pump();
  }

  /** The consumer made room in the queue. */
  onRoom(): void {
    if (this.#waitingForRoom) {
      this.#waitingForRoom = false;
      void this.#pump();
    }
  }

  /** Ends the stream and releases everything: listeners, the timer. Idempotent. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) this.#a.clock.clearTimeout(this.#timer);
    this.#timer = null;
    for (const f of this.#cleanups.splice(0)) f();
    this.#backlog = [];
    try {
      if (error) this.#controller?.error(error);
      else this.#controller?.close();
    } catch {
      // Already closed or canceled by the consumer.
    }
  }

  #queuedBytes(): number {
    return this.#a.settings.maxBufferedBytes - (this.#controller?.desiredSize ?? 0);
  }

  #full(): boolean {
    return (this.#controller?.desiredSize ?? 0) <= 0;
  }

  #write(text: string): void {
    this.#controller?.enqueue(encoder.encode(text));
  }

  /** Writes backlog records while there is room; true when the backlog is empty. */
  #flushBacklog(): boolean {
    let i = 0;
    while (i < this.#backlog.length && !this.#full()) {
      const r = this.#backlog[i++]!;
      this.#write(frame(r));
      this.#lastSentId = r.cursor;
    }
    this.#backlog = i === this.#backlog.length ? [] : this.#backlog.slice(i);
    if (this.#backlog.length > 0) return false;
    this.#cursor = this.#backlogEnd;
    return true;
  }

  /** Reads and writes until caught up, or until the buffer is full. One read at a time. */
  async #pump(): Promise<void> {
    if (this.#closed) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    try {
      let more = true;
      for (;;) {
        this.#again = false;
        if (!this.#flushBacklog()) {
          this.#waitingForRoom = true;
          return;
        }
        if (!more || this.#closed) return;
        if (this.#full()) {
          this.#waitingForRoom = true;
          return;
        }
        const page = await this.#a.client.readEvents({ after: this.#cursor, limit: this.#a.settings.pageSize, jobId: this.#a.jobId });
        if (this.#closed) return;
        this.#backlog = coalesceProgress(page.items);
        this.#backlogEnd = page.cursor;
        more = !page.done || this.#again;
      }
    } catch (error) {
      // The engine stopped, or the store failed: end the stream; the client reconnects.
      this.close(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#reading = false;
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#a.clock.setTimeout(() => this.#tick(), this.#a.settings.heartbeatMs);
    // A connection must not keep the process alive by itself (the socket already does).
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #tick(): void {
    this.#timer = null;
    if (this.#closed) return;
    if (this.#full()) {
      const queued = this.#queuedBytes();
      // Full at two heartbeats in a row with nothing drained in between: a stalled client.
      if (this.#fullAtLastTick !== null && queued >= this.#fullAtLastTick) return this.close(new SlowClientError(queued));
      this.#fullAtLastTick = queued;
    } else {
      this.#fullAtLastTick = null;
      // Also carries the position past events this actor may not see, so a resume is cheap.
      const caughtUpId = this.#backlog.length === 0 && this.#cursor !== this.#lastSentId ? this.#cursor : null;
      if (caughtUpId) this.#lastSentId = caughtUpId;
      this.#write(caughtUpId ? `: heartbeat\nid: ${caughtUpId}\n\n` : ': heartbeat\n\n');
      // A safety net for a missed wake (e.g. a Postgres read that timed out waiting).
      void this.#pump();
    }
    this.#schedule();
  }
}
