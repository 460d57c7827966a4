/**
 * `--trace`: wraps a store (any {@link StorageAdapter}, through the public `storage` option)
 * and counts, per method, the calls, the items they carried (jobs inserted, claimed, settled;
 * events read) and the time spent in them. This is how the bench shows how many transactions
 * a job costs, without touching the engine. Off by default: the wrapper adds a little work.
 */
import { performance } from 'node:perf_hooks';
import type { StorageAdapter } from '../src/index.js';

/** Counts of one store method. */
export interface MethodStats {
  calls: number;
  /** Jobs inserted / settled / claimed, or events read, summed over the calls. */
  items: number;
  /** settleAndClaim only: jobs claimed (`items` counts the settled ones). */
  claimed: number;
  ms: number;
}

/** Items a call carried, by method (calls without a natural item count count 0). */
function itemsOf(method: string, req: unknown, res: unknown): number {
  const r = req as Record<string, unknown> | undefined;
  switch (method) {
    case 'insertJobs':
      return (r?.jobs as unknown[] | undefined)?.length ?? 0;
    case 'settleJobs':
    case 'settleAndClaim':
      return (r?.settles as unknown[] | undefined)?.length ?? 0;
    case 'claimJobs':
      return Array.isArray(res) ? res.length : 0;
    case 'readEvents':
      return ((res as { events?: unknown[] } | undefined)?.events ?? []).length;
    default:
      return 0;
  }
}

/** A counting wrapper around `inner`, and a function that reads (and formats) the counts. */
export function traceStore<S extends StorageAdapter>(inner: S): { storage: S; stats(): Record<string, MethodStats>; summary(): string } {
  const stats: Record<string, MethodStats> = {};
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const s = (stats[prop] ??= { calls: 0, items: 0, claimed: 0, ms: 0 });
        const t0 = performance.now();
        const done = (res: unknown) => {
          s.calls++;
          s.items += itemsOf(prop, args[0], res);
          if (prop === 'settleAndClaim') s.claimed += ((res as { claimed?: unknown[] } | undefined)?.claimed ?? []).length;
          s.ms += performance.now() - t0;
          return res;
        };
        // Called on the real store, so its private fields work.
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        return out instanceof Promise ? out.then(done) : done(out);
      };
    },
  });
  const summary = () => formatStats(stats);
  return { storage, stats: () => structuredClone(stats), summary };
}

/** `method N× (items/call) ms`, slowest first; `since` subtracts an earlier snapshot. */
export function formatStats(stats: Record<string, MethodStats>, since: Record<string, MethodStats> = {}): string {
  return Object.entries(stats)
    .map(([m, s]) => {
      const b = since[m];
      return { m, calls: s.calls - (b?.calls ?? 0), items: s.items - (b?.items ?? 0), claimed: s.claimed - (b?.claimed ?? 0), ms: s.ms - (b?.ms ?? 0) };
    })
    .filter((x) => x.calls > 0)
    .sort((a, b) => b.ms - a.ms)
    .map((x) => {
      const per =
        x.m === 'settleAndClaim'
          ? ` (${(x.items / x.calls).toFixed(1)} settled + ${(x.claimed / x.calls).toFixed(1)} claimed/call)`
          : x.items > 0
            ? ` (${(x.items / x.calls).toFixed(1)}/call)`
            : '';
      return `${x.m} ${x.calls}×${per} ${x.ms.toFixed(0)} ms`;
    })
    .join(', ');
}
