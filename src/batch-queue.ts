/**
 * Group commit: requests made while a flush is in flight (or within the same macrotask) are
 * written together in one store call. This is what makes one-fsync-per-batch possible without
 * adding latency: an idle queue flushes on the next turn of the event loop (next-turn.ts).
 */
import { onNextTurn } from './next-turn.js';

/** One request's own result: a batch may succeed for some requests and fail for others. */
export type Settled<Res> = { ok: true; value: Res } | { ok: false; error: unknown };

interface Pending<Req, Res> {
  req: Req;
  resolve: (res: Res) => void;
  reject: (err: unknown) => void;
}

/** A queue that flushes its requests in batches through `flush`, one batch in flight at a time. */
export class BatchQueue<Req, Res> {
  #pending: Pending<Req, Res>[] = [];
  #inFlight: Promise<void> | null = null;
  #scheduled = false;

  /**
   * @param flush writes a batch; returns one settled result per request, in order. If it
   *   throws, every request of the batch is rejected with that error.
   * @param maxBatch largest batch handed to `flush`
   */
  constructor(
    private readonly flush: (reqs: Req[]) => Promise<Settled<Res>[]>,
    private readonly maxBatch = 1000,
  ) {}

  /** Queues `req`; resolves with its result once its batch is committed. */
  add(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.#pending.push({ req, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves when nothing is pending or in flight. */
  async idle(): Promise<void> {
    while (this.#inFlight || this.#pending.length > 0 || this.#scheduled) {
      if (this.#inFlight) await this.#inFlight;
      else await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Number of requests waiting for a flush. */
  get size(): number {
    return this.#pending.length;
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    onNextTurn(() => {
      this.#scheduled = false;
      this.#run();
    });
  }

  #run(): void {
    if (this.#inFlight || this.#pending.length === 0) return;
    const batch = this.#pending.splice(0, this.maxBatch);
    this.#inFlight = this.flush(batch.map((p) => p.req)).then(
      (results) => {
        batch.forEach((p, i) => {
          const r = results[i];
          if (r?.ok) p.resolve(r.value);
          else p.reject(r ? r.error : new Error('internal: the batch returned no result for this request'));
        });
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    ).finally(() => {
      this.#inFlight = null;
      if (this.#pending.length > 0) this.#schedule();
    });
  }
}
