/** Measurement helpers for one child process: clocks, percentiles, the drain sampler. */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** CLOCK_MONOTONIC in ms: the same clock in every process of the machine. */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const ELD_RESOLUTION_MS = 10;

export interface DrainSample {
  cpuUsPerJob: number;
  peakRssMB: number;
  eldP99Ms: number;
}

/**
 * Watches the process while a drain runs: CPU time (process.cpuUsage), peak RSS (sampled every
 * 20 ms, plus at the end) and event-loop delay p99 (monitorEventLoopDelay, 10 ms resolution).
 */
export function startSampler(): { stop(jobs: number): DrainSample } {
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop(jobs) {
      const cpu = process.cpuUsage(cpu0);
      clearInterval(timer);
      eld.disable();
      peak = Math.max(peak, process.memoryUsage.rss());
      return {
        cpuUsPerJob: (cpu.user + cpu.system) / jobs,
        peakRssMB: peak / 2 ** 20,
        // No sample at all means the loop never got back to its timers: blocked throughout.
        // The histogram records the whole timer interval: the delay is what exceeds it.
        eldP99Ms: eld.count === 0 ? performance.now() - t0 : Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS),
      };
    },
  };
}

/** Resolves when `count()` reaches `n`, or rejects after `timeoutMs`. */
export function counter(n: number, timeoutMs: number, what: string) {
  let done = 0;
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const reached = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`${what}: only ${done} of ${n} after ${timeoutMs} ms`)), timeoutMs);
  reached.then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );
  return {
    reached,
    count() {
      if (++done === n) resolve();
    },
    get done() {
      return done;
    },
  };
}
