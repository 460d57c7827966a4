/** One heavy step per event-loop turn (src/next-turn.ts). */
import { describe, expect, it } from 'vitest';
import { nextTurn, onNextTurn } from '../../src/next-turn.js';

describe('onNextTurn', () => {
  it('runs queued steps in order, one per turn, letting other callbacks in between', async () => {
    const order: string[] = [];
    onNextTurn(() => order.push('step 1'));
    onNextTurn(() => order.push('step 2'));
    onNextTurn(() => order.push('step 3'));
    // Queued after the steps: with plain setImmediate all three steps would run before it.
    setImmediate(() => order.push('other'));
    await new Promise<void>((resolve) => onNextTurn(resolve));
    expect(order).toEqual(['step 1', 'other', 'step 2', 'step 3']);
  });

  it('nextTurn resolves after the steps queued before it', async () => {
    const order: string[] = [];
    onNextTurn(() => order.push('step'));
    await nextTurn();
    order.push('after');
    expect(order).toEqual(['step', 'after']);
  });
});
