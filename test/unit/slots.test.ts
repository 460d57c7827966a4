/** The dispatch loop's room arithmetic (src/scheduler/slots.ts). */
import { describe, expect, it } from 'vitest';
import { SETTLING_ALLOWANCE, Slots } from '../../src/scheduler/slots.js';

describe('Slots', () => {
  it('room is concurrency plus prefetch depth, less running handlers, buffered jobs and reserved claims', () => {
    const s = new Slots(4);
    expect(s.room(0, 0)).toBe(4);
    s.start();
    s.reserve(2);
    expect(s.room(1, 0)).toBe(0);
    expect(s.room(1, 3)).toBe(3);
    s.unreserve(2);
    s.finish();
    expect(s.room(0, 0)).toBe(4);
  });

  it('settles waiting beyond the allowance take room; those committing with the claim do not', () => {
    const s = new Slots(2);
    for (let i = 0; i < SETTLING_ALLOWANCE + 3; i++) {
      s.start();
      s.finish();
    }
    expect(s.room(0, 0)).toBe(-1); // three settles beyond the allowance hold three slots' room
    expect(s.room(0, 0, 3)).toBe(2); // a settle batch of three carries this claim
    expect(s.room(0, 5)).toBe(4);
    s.settled();
    s.settled();
    s.settled();
    expect(s.room(0, 0)).toBe(2);
  });

  it('a slot is free only while fewer than concurrency handlers run', () => {
    const s = new Slots(2);
    s.start();
    expect(s.free).toBe(true);
    s.start();
    expect(s.free).toBe(false);
    expect(s.busy).toBe(2);
    s.finish();
    expect(s.free).toBe(true);
  });

  it('a short claim marks the queue exhausted until the loop is woken', () => {
    const s = new Slots(4);
    s.claimed(4, 4);
    expect(s.exhausted).toBe(false);
    s.claimed(4, 1);
    expect(s.exhausted).toBe(true);
    s.woke();
    expect(s.exhausted).toBe(false);
  });
});
