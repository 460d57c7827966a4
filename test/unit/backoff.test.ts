import { describe, expect, it } from 'vitest';
import { computeBackoff } from '../../src/index.js';

describe('computeBackoff', () => {
  const policy = { baseMs: 1000, factor: 2, maxMs: 10_000 };

  it('grows exponentially without jitter and caps at maxMs', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => computeBackoff(n, { ...policy, jitter: 'none' }));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('full jitter is uniform in [0, d]', () => {
    expect(computeBackoff(3, { ...policy, jitter: 'full' }, () => 0)).toBe(0);
    expect(computeBackoff(3, { ...policy, jitter: 'full' }, () => 0.5)).toBe(2000);
    expect(computeBackoff(3, { ...policy, jitter: 'full' }, () => 0.999999)).toBe(4000);
  });

  it('equal jitter is d/2 + uniform in [0, d/2]', () => {
    expect(computeBackoff(3, { ...policy, jitter: 'equal' }, () => 0)).toBe(2000);
    expect(computeBackoff(3, { ...policy, jitter: 'equal' }, () => 0.5)).toBe(3000);
  });

  it('defaults to baseMs 1000, factor 2, maxMs 1h, full jitter', () => {
    expect(computeBackoff(1, undefined, () => 1)).toBe(1000);
    expect(computeBackoff(30, undefined, () => 1)).toBe(3_600_000);
  });

  it('never overflows for huge retry numbers', () => {
    expect(computeBackoff(10_000, { ...policy, jitter: 'none' })).toBe(10_000);
  });
});
