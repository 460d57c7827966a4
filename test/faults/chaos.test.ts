/**
 * A short run of the chaos loop that `npm run soak` runs for minutes: random SIGKILL,
 * SIGSTOP…SIGCONT, SIGTERM and store faults, crashing and poison handlers, dependencies and
 * cancels, continuous submits; then every invariant over every job.
 */
import { expect, it } from 'vitest';
import { chaosRound } from './chaos.js';
import { formatViolations } from './harness.js';
import { describeOnStores } from './fault-suite.js';

describeOnStores('chaos', (store, makeCluster) => {
  it.sequential('mixed faults: every acknowledged job ends terminal, one exit per attempt, extra effects only after a rescue, no lease left to a dead worker', async () => {
    const c = await makeCluster({ name: 'chaos', leaseMs: 800, ...(store === 'sqlite' ? { busyTimeoutMs: 250 } : {}) });
    const stats = await chaosRound(c, {
      durationMs: 3_500,
      workers: 3,
      faults: ['kill', 'stop', 'term', 'store'],
      faultGapMs: [150, 500],
      submitGapMs: [40, 120],
      batch: [1, 3],
      spawn: { concurrency: 6 },
      settleTimeoutMs: 60_000,
    });
    expect(stats.jobs).toBeGreaterThan(0);
    if (stats.violations.length > 0) throw new Error(formatViolations(stats.violations, c.seed));
  }, 90_000);
});
