/**
 * Delivers job events from the store's event tail. Every status and progress event, whichever
 * process caused it, reaches this engine's listeners through here, in commit order. A local
 * write pokes the feed so local listeners hear it at once; other processes' writes arrive on
 * the next poll (`pollIntervalMs`) or store notice.
 */
import type { EventCursor, StorageAdapter } from './storage/adapter.js';
import type { SafeEmitter } from './events.js';
import { nextTurn } from './next-turn.js';

const PAGE = 500;

/** Tails the store and emits `job:status` / `job:progress`. */
export class EventFeed {
  #cursor: EventCursor | null = null;
  #reading: Promise<void> | null = null;
  #again = false;
  #stopped = true;

  constructor(
    private readonly storage: StorageAdapter,
    private readonly emitter: SafeEmitter,
    private readonly reportError: (error: unknown, source: string) => void,
  ) {}

  /** Starts at the current end of the tail: history before start is not replayed. */
  async start(): Promise<void> {
    this.#cursor = (await this.storage.readEvents({ after: null, limit: 0 })).cursor;
    this.#stopped = false;
  }

  /**
   * Reads what is new on the next turn of the event loop (so the write's caller, e.g. a
   * handler about to start, goes first); pokes made meanwhile fold into the same read.
   * Without job listeners it does nothing: the periodic `poll()` keeps the cursor current.
   */
  poke(): void {
    if (this.#stopped || !this.emitter.hasJobListeners()) return;
    this.#startRead(true);
  }

  /** The periodic read (every pollIntervalMs): delivers other processes' events. */
  poll(): void {
    if (this.#stopped) return;
    this.#startRead(false);
  }

  /**
   * A store notice (another process committed): the same read as `poll()`, on the next turn,
   * so that a claim queued by the same notice goes first (a job waiting to start matters more
   * than an event a turn earlier: 0.1–0.2 ms of submit→start between processes).
   */
  pollSoon(): void {
    if (this.#stopped) return;
    this.#startRead(true);
  }

  #startRead(deferred: boolean): void {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = (deferred ? nextTurn().then(() => this.#readAll()) : this.#readAll()).finally(() => {
      this.#reading = null;
      if (this.#again) {
        this.#again = false;
        this.#startRead(true);
      }
    });
  }

  /** Waits for reads in flight, then stops. */
  async stop(): Promise<void> {
    await this.flush();
    this.#stopped = true;
  }

  /** Resolves once everything committed so far has been delivered. */
  async flush(): Promise<void> {
    if (this.#stopped) return;
    this.poll();
    while (this.#reading) await this.#reading;
  }

  async #readAll(): Promise<void> {
    try {
      for (;;) {
        this.#again = false;
        if (!this.emitter.hasJobListeners()) {
          // Nobody listens: skip to the end instead of building events no one reads. Only the
          // periodic poll gets here, so a listener added later hears at most pollIntervalMs of
          // older events, and never misses a newer one.
          this.#cursor = (await this.storage.readEvents({ after: null, limit: 0 })).cursor;
          return;
        }
        const { events, cursor } = await this.storage.readEvents({ after: this.#cursor, limit: PAGE });
        this.#cursor = cursor;
        for (const e of events) {
          if (e.kind === 'status') this.emitter.safeEmit('job:status', e.event);
          else this.emitter.safeEmit('job:progress', e.event);
        }
        if (events.length < PAGE) return;
        await nextTurn(); // yield between pages
      }
    } catch (error) {
      this.reportError(error, 'events');
    }
  }
}
