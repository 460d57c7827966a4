/** Seeded randomness: one seed per run, printed on failure, so a failing run can be replayed. */

/** A small seeded random source (mulberry32). */
export class Rng {
  #s: number;
  constructor(readonly seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

/** The seed of this run: `JOBWING_FAULT_SEED`, or a fresh random one. */
export function resolveSeed(): number {
  const env = process.env.JOBWING_FAULT_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n)) throw new Error(`JOBWING_FAULT_SEED must be an integer, got ${env}`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
