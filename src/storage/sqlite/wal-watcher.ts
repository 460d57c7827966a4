/**
 * Cross-process wake-ups on SQLite: every commit of any process appends to the database's
 * `-wal` file, so a file-system watch on it (inotify on Linux, kqueue/FSEvents on macOS) tells
 * this process at once that something MAY have been committed. `PRAGMA data_version` is the
 * cheap check (about a microsecond, no I/O) that ANOTHER connection committed: it never changes
 * for this connection's own commits, so our own writes wake nobody.
 *
 * Why the directory and not the `-wal` file: the WAL does not exist before the first write and
 * is deleted when the last connection closes; a directory watch survives both.
 *
 * Why rechecks: SQLite writes the WAL frames (the event) before it publishes the commit in the
 * shared-memory index, and with synchronous=FULL an fsync sits in between, so the first check
 * can come too early. An unchanged version is re-checked a few times with a short backoff.
 *
 * The watch is optional and best effort: it fails on some file systems (network mounts, some
 * container bind mounts) and then engines simply poll every `pollIntervalMs`, as before.
 * It never throws into the host and does not keep the process alive on its own.
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** Delays of the rechecks after an event that found no new commit (ms). */
export const RECHECK_DELAYS_MS = [1, 2, 4, 8, 16, 32, 64] as const;

/** State of the watch, for diagnostics and tests. */
export interface WalWatchStatus {
  /** A file-system watch is active. */
  watching: boolean;
  /** Times subscribers were called because another connection committed. */
  wakes: number;
}

/** `fs.watch`'s shape, injectable for tests. */
export type WatchFn = (path: string, options: { persistent: boolean }, listener: (event: string, filename: string | Buffer | null) => void) => FSWatcher;

/** Watches one database's WAL and calls subscribers after other connections' commits. */
export class WalWatcher {
  readonly #subscribers = new Set<() => void>();
  readonly #dir: string;
  readonly #walName: string;
  #watcher: FSWatcher | null = null;
  #version: number | null = null;
  #checkScheduled = false;
  #recheckTimer: ReturnType<typeof setTimeout> | null = null;
  #recheckIndex = 0;
  #wakes = 0;
  #closed = false;

  /**
   * @param dbPath the database file
   * @param dataVersion reads `PRAGMA data_version` on the store's connection; null when closed
   */
  constructor(
    dbPath: string,
    private readonly dataVersion: () => number | null,
    private readonly watchFn: WatchFn = fsWatch as unknown as WatchFn,
  ) {
    const abs = resolve(dbPath);
    this.#dir = dirname(abs);
    this.#walName = `${basename(abs)}-wal`;
  }

  get status(): WalWatchStatus {
    return { watching: this.#watcher !== null, wakes: this.#wakes };
  }

  /** Adds a subscriber; the first one starts the watch. Returns the unsubscribe. */
  subscribe(onNotice: () => void): () => void {
    this.#subscribers.add(onNotice);
    if (this.#watcher === null && !this.#closed) this.#start();
    return () => {
      this.#subscribers.delete(onNotice);
      if (this.#subscribers.size === 0) this.#stopWatch();
    };
  }

  /** Stops watching for good. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#subscribers.clear();
    this.#stopWatch();
  }

  #start(): void {
    this.#version = this.#read();
    try {
      // persistent: false — the watch is an optimisation; it must never hold a process open.
      const w = this.watchFn(this.#dir, { persistent: false }, (_event, filename) => {
        if (filename === null || String(filename) === this.#walName) this.#scheduleCheck();
      });
      w.on('error', () => this.#stopWatch()); // e.g. the directory vanished: fall back to polling
      this.#watcher = w;
    } catch {
      this.#watcher = null; // unsupported here (ENOSPC, EPERM, exotic fs): polling covers it
    }
  }

  #stopWatch(): void {
    const w = this.#watcher;
    this.#watcher = null;
    if (this.#recheckTimer) clearTimeout(this.#recheckTimer);
    this.#recheckTimer = null;
    try {
      w?.close();
    } catch {
      // already closed
    }
  }

  #read(): number | null {
    try {
      return this.dataVersion();
    } catch {
      return null;
    }
  }

  /** At most one check per event-loop turn, however many events arrived. */
  #scheduleCheck(): void {
    this.#recheckIndex = 0;
    if (this.#checkScheduled) return;
    this.#checkScheduled = true;
    setImmediate(() => {
      this.#checkScheduled = false;
      this.#check();
    });
  }

  #check(): void {
    if (this.#watcher === null) return;
    const v = this.#read();
    if (v === null) return;
    if (v !== this.#version) {
      this.#version = v;
      this.#recheckIndex = RECHECK_DELAYS_MS.length; // found it: no rechecks needed
      if (this.#recheckTimer) clearTimeout(this.#recheckTimer);
      this.#recheckTimer = null;
      this.#deliver();
      return;
    }
    this.#armRecheck();
  }

  #armRecheck(): void {
    if (this.#recheckTimer !== null || this.#recheckIndex >= RECHECK_DELAYS_MS.length) return;
    const delay = RECHECK_DELAYS_MS[this.#recheckIndex++]!;
    this.#recheckTimer = setTimeout(() => {
      this.#recheckTimer = null;
      this.#check();
    }, delay);
    this.#recheckTimer.unref?.();
  }

  #deliver(): void {
    this.#wakes++;
    for (const fn of this.#subscribers) {
      try {
        fn();
      } catch {
        // A subscriber's failure is its own; the others still hear the notice.
      }
    }
  }
}
