/**
 * The room of one dispatch loop, in one place: handlers running (`busy`, never above
 * `concurrency`), room promised to claims in flight (`reserved`), and whether the last claim
 * came back short (`exhausted`: nothing more is claimable until something wakes the loop).
 * dispatch-loop.ts explains why the loop never exceeds `concurrency`; this object is the
 * arithmetic it relies on.
 */
export class Slots {
  #busy = 0;
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
   * the jobs already `buffered` and the room other claims in flight reserved.
   */
  room(buffered: number, depth: number): number {
    return this.concurrency + depth - this.#busy - buffered - this.#reserved;
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
  }
}
