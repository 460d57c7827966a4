/**
 * The one place that turns this engine's own store writes into event delivery: every
 * successful write that can create job events (or make a job claimable) calls `onWrite`,
 * so local listeners hear a change at once (not at the next poll) whichever part of the
 * engine made it: a submit, a claim, progress, a settle, a cancel, a retry, a promotion.
 */
import type { StorageAdapter } from './adapter.js';

/** The seam methods whose success can produce job events. */
export const EVENT_WRITES = ['insertJobs', 'insertAndClaim', 'claimJobs', 'recordProgress', 'settleJobs', 'settleAndClaim', 'cancelJob', 'retryJob', 'promoteDueJobs'] as const;

/** A method of {@link EVENT_WRITES}. */
export type EventWrite = (typeof EVENT_WRITES)[number];

const isEventWrite = (prop: PropertyKey): prop is EventWrite => (EVENT_WRITES as readonly PropertyKey[]).includes(prop);

/**
 * `store`, with `onWrite(method, result)` called after each successful event write.
 * Everything else passes through unchanged (a Proxy, so stores with #private fields work).
 */
export function observeWrites(store: StorageAdapter, onWrite: (method: EventWrite, result: unknown) => void): StorageAdapter {
  const wrapped = new Map<EventWrite, (req: unknown) => Promise<unknown>>();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (!isEventWrite(prop)) return (value as (...a: unknown[]) => unknown).bind(target);
      let fn = wrapped.get(prop);
      if (!fn) {
        const method = (value as (req: unknown) => Promise<unknown>).bind(target);
        fn = async (req: unknown) => {
          const result = await method(req);
          onWrite(prop, result);
          return result;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
