import { MAX_JOBS_PER_TRANSACTION } from './prefetch-buffer.js';

/**
 * Finished attempts that may wait for their settle without holding back claims: two full
 * settle batches (the one committing and the one filling while the next handlers run; one
 * alone cost Postgres ~5 % of its drain, measured). Beyond them, each waiting
 * settle takes the room of one claim, so claims never run ahead of settles: without this
 * bound a fast drain claimed and ran jobs faster than their settles committed, and kept
 * thousands of finished attempts in memory (their objects outlived the young-generation GC,
 * which copied them: 10–30 ms pauses of the host's event loop).
 */
export const SETTLING_ALLOWANCE = 2 * MAX_JOBS_PER_TRANSACTION;

/**
 * The room of one dispatch loop, in one place: handlers running (`busy`, never above
 * `concurrency`), finished attempts whose settle has not committed (`settling`), room promised
 * to claims in flight (`reserved`), and whether the last claim came back short (`exhausted`:
 * nothing more is claimable until something wakes the loop). dispatch-loop.ts explains why the
 * loop never exceeds `concurrency`; this object is the arithmetic it relies on.
 */
export class Slots {
  #busy = 0;
  #settling = 0;
  #reserved = 0;
  #exhausted = false;

  constructor(readonly concurrency: number) {}

  /** Handlers running now. */
  get busy(): number {
    return this.#busy;
  }

  /** True when a handler may start. */
  get free(): boolean {
    return this.#busy < this.concurrency;
  }

  /** True when the last claim found fewer jobs than it asked for, and nothing woke the loop since. */
  get exhausted(): boolean {
    return this.#exhausted;
  }

  /**
   * How many jobs the next claim may ask for: the free slots plus the prefetch `depth`, less
   * the jobs already `buffered`, the room other claims in flight reserved, and the settles
   * waiting beyond {@link SETTLING_ALLOWANCE}. `settlingAlong`: settles that commit in the
   * claim's own transaction (a settle batch's claim), which do not count.
   */
  room(buffered: number, depth: number, settlingAlong = 0): number {
    const backlog = Math.max(0, this.#settling - settlingAlong - SETTLING_ALLOWANCE);
    return this.concurrency + depth - this.#busy - buffered - this.#reserved - backlog;
  }

  /** A claim asking for `n` jobs goes to the store. */
  reserve(n: number): void {
    this.#reserved += n;
  }

  /** That claim is back (its jobs are buffered in the same step) or failed. */
  unreserve(n: number): void {
    this.#reserved -= n;
  }

  /** A claim asked for `asked` and got `got`: short means nothing more is claimable now. */
  claimed(asked: number, got: number): void {
    if (got < asked) this.#exhausted = true;
  }

  /** Something may have made jobs claimable (a submit, a freed slot, a store notice). */
  woke(): void {
    this.#exhausted = false;
  }

  /** A handler starts. */
  start(): void {
    this.#busy++;
  }

  /** A handler is over (before its settle commits, so the next job starts at once). */
  finish(): void {
    this.#busy--;
    this.#settling++;
  }

  /** That attempt's settle committed (or was given up): it no longer holds room. */
  settled(): void {
    this.#settling--;
  }
}
