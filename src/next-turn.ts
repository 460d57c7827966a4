/**
 * One heavy step per turn of the event loop. Node runs every `setImmediate` callback queued
 * before its check phase in one go, so a settle batch, a claim and an event-feed read queued
 * together held the loop for all three (a drain measured 8–20 ms per turn): the host's timers
 * and its web server's sockets waited for the sum. Steps queued here run one per turn, in
 * order, with timers and I/O between them; each step still runs within a turn of being
 * queued when nothing else waits.
 */
const steps: (() => void)[] = [];
let scheduled = false;

function runOne(): void {
  const step = steps.shift();
  // Schedule the next turn before running: a throwing step must not stall the queue.
  if (steps.length > 0) setImmediate(runOne);
  else scheduled = false;
  step?.();
}

/** Runs `step` on a later turn of the event loop, after the steps queued before it, one per turn. */
export function onNextTurn(step: () => void): void {
  steps.push(step);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runOne);
}

/** Resolves on a later turn (see {@link onNextTurn}). */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => onNextTurn(resolve));
}
