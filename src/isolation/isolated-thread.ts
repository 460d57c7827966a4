/**
 * One isolation worker thread, running one job at a time. Relays the handler's progress and
 * checkpoint saves to the runner's context, turns its result or error back into a value or a
 * rebuilt error, and enforces the hard stop: after an abort the thread has 1 s to finish,
 * then it is terminated. An aborted or dead thread is never reused.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { JobContext } from '../define-job-type.js';
import { PermanentError, TransientError } from '../errors.js';
import type { NormalizedIsolation } from './isolation-options.js';
import { serializeThrown, type FromThread, type SerializedError, type ToThread } from './protocol.js';
import { threadEntry } from './thread-entry-location.js';
import { WorkerCrashedError } from './worker-crashed-error.js';

/** How long an aborted handler may take to finish before its thread is terminated. */
export const HARD_STOP_MS = 1_000;

/**
 * Internal observation point (tests, bench): 'spawn' and 'exit' with `{ threadId }`; the
 * live count is {@link liveIsolationThreads}. Not part of the public API.
 */
export const isolationThreadEvents = new EventEmitter();
let live = 0;
/** Isolation threads alive in this process, across all pools. */
export function liveIsolationThreads(): number {
  return live;
}

interface Current {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  ctx: JobContext<unknown>;
  onAbort: () => void;
}

export class IsolatedThread {
  readonly key: string;
  readonly #worker: Worker;
  #current: Current | null = null;
  #lastError: unknown = null;
  #killTimer: NodeJS.Timeout | null = null;
  /** 'retiring': aborted or finishing, to be terminated; 'dead': exited. */
  #state: 'idle' | 'busy' | 'retiring' | 'dead' = 'idle';
  readonly exited: Promise<void>;
  readonly #onFree: (thread: IsolatedThread) => void;

  /** @param onFree called when the thread is idle again or gone (the pool updates its lists) */
  constructor(iso: NormalizedIsolation, onFree: (thread: IsolatedThread) => void) {
    this.key = iso.key;
    this.#onFree = onFree;
    const entry = threadEntry();
    this.#worker = new Worker(entry.file, { workerData: entry.workerData, resourceLimits: iso.resourceLimits });
    this.#worker.unref();
    live++;
    isolationThreadEvents.emit('spawn', { threadId: this.#worker.threadId });
    this.#worker.on('message', (msg: FromThread) => this.#onMessage(msg));
    this.#worker.on('error', (error) => (this.#lastError = error));
    const threadId = this.#worker.threadId;
    this.exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        live--;
        this.#onExit(code);
        isolationThreadEvents.emit('exit', { threadId, code });
        resolve();
      }),
    );
  }

  get threadId(): number {
    return this.#worker.threadId;
  }

  get state(): 'idle' | 'busy' | 'retiring' | 'dead' {
    return this.#state;
  }

  /** Runs one job. Rejects with the handler's rebuilt error, or WorkerCrashedError. */
  run(module: string, input: unknown, ctx: JobContext<unknown>): Promise<unknown> {
    if (this.#state !== 'idle') return Promise.reject(new Error(`jobwing: isolation thread ${this.threadId} is ${this.#state}`));
    this.#state = 'busy';
    this.#worker.ref(); // a running job keeps the process alive, as in-process
    return new Promise((resolve, reject) => {
      const onAbort = () => this.#abort();
      this.#current = { resolve, reject, ctx, onAbort };
      const start: ToThread = { t: 'start', module, job: { ...ctx.job }, input, checkpoint: ctx.checkpoint };
      try {
        this.#worker.postMessage(start);
      } catch (error) {
        this.#finish();
        reject(new PermanentError(`The job's input or checkpoint cannot be passed to the worker thread: ${serializeThrown(error).message}`));
        return;
      }
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Terminates the thread (engine stop, or eviction of an idle thread). */
  terminate(): Promise<void> {
    if (this.#state !== 'dead') {
      this.#state = 'retiring';
      void this.#worker.terminate();
    }
    return this.exited;
  }

  #abort(): void {
    if (!this.#current || this.#state !== 'busy') return;
    this.#state = 'retiring';
    this.#post({ t: 'abort', reason: this.#current.ctx.signal.reason });
    // The hard stop: a handler ignoring its signal (or spinning) ends here.
    this.#killTimer = setTimeout(() => void this.#worker.terminate(), HARD_STOP_MS);
    this.#killTimer.unref();
  }

  #onMessage(msg: FromThread): void {
    const cur = this.#current;
    if (!cur) return;
    switch (msg.t) {
      case 'progress':
        this.#answer(msg.req, cur.ctx.progress(msg.percent as number, msg.message as string | undefined).then(() => undefined));
        return;
      case 'checkpoint':
        this.#answer(msg.req, cur.ctx.saveCheckpoint(msg.value).then(() => cur.ctx.checkpoint));
        return;
      case 'result':
        this.#finish();
        cur.resolve(msg.value);
        return;
      case 'error':
        this.#finish();
        cur.reject(rebuildError(msg.error));
        return;
    }
  }

  #answer(req: number, work: Promise<unknown>): void {
    work.then(
      (checkpoint) => this.#post({ t: 'ack', req, ok: true, checkpoint }),
      (error: unknown) => this.#post({ t: 'ack', req, ok: false, error: serializeThrown(error) }),
    );
  }

  #post(msg: ToThread): void {
    if (this.#state === 'dead') return;
    try {
      this.#worker.postMessage(msg);
    } catch {
      // only a checkpoint ack can carry an uncloneable value, and it was cloneable on the way in
    }
  }

  /** The job is over: back to idle, or (after an abort) terminated. */
  #finish(): void {
    const cur = this.#current;
    this.#current = null;
    cur?.ctx.signal.removeEventListener('abort', cur.onAbort);
    if (this.#state === 'busy') {
      this.#state = 'idle';
      this.#worker.unref();
      this.#onFree(this);
    } else if (this.#state === 'retiring') void this.#worker.terminate();
  }

  #onExit(code: number): void {
    const cur = this.#current;
    const wasRetiring = this.#state === 'retiring';
    this.#current = null;
    this.#state = 'dead';
    if (this.#killTimer) clearTimeout(this.#killTimer);
    this.#killTimer = null;
    if (cur) {
      cur.ctx.signal.removeEventListener('abort', cur.onAbort);
      cur.reject(wasRetiring ? new Error('The worker thread was terminated after the attempt was aborted') : crashError(this.#lastError, code));
    }
    this.#onFree(this);
  }
}

function crashError(cause: unknown, code: number): WorkerCrashedError {
  const c = cause as { code?: unknown; message?: unknown } | null;
  if (c && c.code === 'ERR_WORKER_OUT_OF_MEMORY') return new WorkerCrashedError(`The worker thread ran out of memory (${String(c.message)})`, code, { cause });
  if (c) return new WorkerCrashedError(`The worker thread crashed: ${serializeThrown(cause).message}`, code, { cause });
  return new WorkerCrashedError(`The worker thread exited with code ${code} before the handler finished`, code);
}

/** The handler's error as the engine classifies and stores it. */
function rebuildError(e: SerializedError): Error {
  const error = e.marker === 'permanent' ? new PermanentError(e.message) : e.marker === 'transient' ? new TransientError(e.message) : new Error(e.message);
  error.name = e.name;
  if (e.stack) error.stack = e.stack;
  for (const [k, v] of Object.entries(e.props)) {
    if (k !== '__proto__' && k !== 'constructor') (error as unknown as Record<string, unknown>)[k] = v;
  }
  return error;
}
