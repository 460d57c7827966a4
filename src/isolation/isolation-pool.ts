/**
 * Worker threads for isolated job types, reused across jobs. Threads are shared only between
 * types with the same module and resource limits; a thread that was aborted or died is
 * replaced, never reused. Live threads are bounded by `maxThreads` (the engine's concurrency):
 * a new thread evicts an idle one of another kind when the bound is reached. Threads being
 * hard-stopped (at most 1 s each) are not counted.
 */
import type { JobContext } from '../define-job-type.js';
import { IsolatedThread } from './isolated-thread.js';
import type { NormalizedIsolation } from './isolation-options.js';

export class IsolationPool {
  readonly #maxThreads: number;
  readonly #threads = new Set<IsolatedThread>();
  #closed = false;

  constructor(options: { maxThreads: number }) {
    this.#maxThreads = Math.max(1, options.maxThreads);
  }

  /** Threads alive now (idle, busy or being stopped), for tests and health. */
  get threadIds(): number[] {
    return [...this.#threads].filter((t) => t.state !== 'dead').map((t) => t.threadId);
  }

  /** Runs the isolated handler for one attempt on an idle thread of its kind, or a new one. */
  run(iso: NormalizedIsolation, input: unknown, ctx: JobContext<unknown>): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('jobwing: the isolation pool is closed (the engine stopped)'));
    return this.#acquire(iso).run(iso.module, input, ctx);
  }

  /** Terminates every thread and waits until they exited. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#threads].map((t) => t.terminate()));
    this.#threads.clear();
  }

  #acquire(iso: NormalizedIsolation): IsolatedThread {
    let live = 0;
    let evictable: IsolatedThread | null = null;
    for (const t of this.#threads) {
      if (t.state === 'idle' && t.key === iso.key) return t;
      if (t.state === 'idle' || t.state === 'busy') live++;
      if (t.state === 'idle') evictable ??= t;
    }
    if (live >= this.#maxThreads && evictable) {
      this.#threads.delete(evictable);
      void evictable.terminate();
    }
    const thread = new IsolatedThread(iso, (t) => {
      if (t.state === 'dead') this.#threads.delete(t);
    });
    this.#threads.add(thread);
    return thread;
  }
}

let shared: IsolationPool | null = null;

/**
 * The pool used when an isolated type's `handler` is called outside an engine (e.g. `runJob`
 * from jobwing/testing). Idle threads are unref'd, so they never keep the process alive.
 */
export function sharedIsolationPool(): IsolationPool {
  shared ??= new IsolationPool({ maxThreads: 4 });
  return shared;
}
