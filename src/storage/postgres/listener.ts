/**
 * The receiving side of LISTEN/NOTIFY: one dedicated connection per store (not from the pool:
 * LISTEN belongs to a session that must stay open) runs `LISTEN "<schema>"` and calls every
 * subscriber soon after a notice, once per burst.
 *
 * A dead listener is detected by the client's 'error' and 'end' events (backend terminated,
 * server restarted, network reset) and by a periodic `SELECT 1` that must answer within
 * {@link PING_TIMEOUT_MS} (a silently dropped connection). It is then replaced, with
 * exponential backoff from {@link RECONNECT_MIN_MS} to {@link RECONNECT_MAX_MS}, and after each
 * reconnect every subscriber is called once, because notices sent while it was down are lost.
 * Meanwhile nothing waits on it: engines keep polling every `pollIntervalMs`.
 */
import type { Client, ClientConfig, Notification } from 'pg';
import type { PgModule } from './pg-driver.js';

/** First delay before replacing a lost listener connection; doubles per failure. */
export const RECONNECT_MIN_MS = 100;
/** Longest delay between reconnection attempts. */
export const RECONNECT_MAX_MS = 10_000;
/** How often the listener connection is checked with `SELECT 1`. */
export const PING_INTERVAL_MS = 30_000;
/** A check not answered within this is a dead connection. */
export const PING_TIMEOUT_MS = 10_000;

/** State of the listener connection, for diagnostics and tests. */
export interface ListenerStatus {
  /** LISTEN is active on a live connection. */
  connected: boolean;
  /** Connections lost and replaced (or being replaced) so far. */
  reconnects: number;
  /** Backend process id of the listening connection (`pg_stat_activity.pid`), or null. */
  backendPid: number | null;
}

/** One LISTEN connection shared by every subscriber of a store. */
export class PgListener {
  readonly #subscribers = new Set<() => void>();
  #client: Client | null = null;
  #connecting: Promise<void> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #delay = RECONNECT_MIN_MS;
  #scheduled = false;
  #stopped = false;
  #status: ListenerStatus = { connected: false, reconnects: 0, backendPid: null };

  /**
   * @param ignoreSender notices whose payload ends with `:<ignoreSender>` come from this very
   *   store, whose engine already reacted to its own write; they are dropped.
   */
  constructor(
    private readonly pg: PgModule,
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly ignoreSender: string,
  ) {}

  get status(): ListenerStatus {
    return { ...this.#status };
  }

  /**
   * Adds a subscriber and, for the first one, connects. Resolves once the first connection
   * attempt has settled, whatever its outcome: a listener that cannot connect keeps retrying in
   * the background while the engine polls.
   */
  async subscribe(onNotice: () => void): Promise<() => Promise<void>> {
    this.#subscribers.add(onNotice);
    this.#stopped = false;
    if (this.#client === null && this.#retryTimer === null) {
      this.#connecting ??= this.#connect().finally(() => (this.#connecting = null));
    }
    await this.#connecting;
    return async () => {
      this.#subscribers.delete(onNotice);
      if (this.#subscribers.size === 0) await this.stop();
    };
  }

  /** Closes the connection and stops reconnecting. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#retryTimer = null;
    this.#pingTimer = null;
    await this.#connecting?.catch(() => undefined);
    const client = this.#client;
    this.#client = null;
    this.#status = { ...this.#status, connected: false, backendPid: null };
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new this.pg.Client(this.config);
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      this.#lost(client);
    };
    client.on('error', onLost);
    client.on('end', onLost);
    const own = `:${this.ignoreSender}`;
    client.on('notification', (msg: Notification) => {
      if (msg.channel === this.channel && !msg.payload?.endsWith(own)) this.#deliver();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replaceAll('"', '""')}"`);
    } catch {
      onLost();
      return;
    }
    if (this.#stopped || lost) {
      await client.end().catch(() => undefined);
      return;
    }
    const reconnected = this.#status.reconnects > 0;
    this.#client = client;
    this.#delay = RECONNECT_MIN_MS;
    this.#status = { ...this.#status, connected: true, backendPid: (client as Client & { processID?: number }).processID ?? null };
    this.#startPing(client, onLost);
    // Notices sent while we were down are gone: let subscribers look for themselves.
    if (reconnected) this.#deliver();
  }

  #lost(client: Client): void {
    if (this.#client === client) this.#client = null;
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = null;
    client.end().catch(() => undefined);
    if (this.#stopped) return;
    this.#status = { connected: false, reconnects: this.#status.reconnects + 1, backendPid: null };
    if (this.#retryTimer) return;
    // Jitter, so many processes do not reconnect in lockstep after a server restart.
    const delay = Math.round(this.#delay / 2 + (Math.random() * this.#delay) / 2);
    this.#delay = Math.min(this.#delay * 2, RECONNECT_MAX_MS);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#connecting ??= this.#connect().finally(() => (this.#connecting = null));
    }, delay);
    this.#retryTimer.unref?.();
  }

  #startPing(client: Client, onLost: () => void): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      let timedOut = false;
      const timeout = setTimeout(() => {
        timedOut = true;
        onLost();
      }, PING_TIMEOUT_MS);
      client.query('SELECT 1').then(
        () => clearTimeout(timeout),
        () => {
          clearTimeout(timeout);
          if (!timedOut) onLost();
        },
      );
    }, PING_INTERVAL_MS);
    this.#pingTimer.unref?.();
  }

  /** Tells this store's own subscribers about a change that no engine call announces (progress). */
  localNotice(): void {
    if (this.#subscribers.size > 0) this.#deliver();
  }

  /** Calls every subscriber once per burst of notices (one macrotask later). */
  #deliver(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      for (const fn of this.#subscribers) {
        try {
          fn();
        } catch {
          // A subscriber's failure is its own; the others still hear the notice.
        }
      }
    });
  }
}
