/**
 * Conformance checks: `collectMetrics`.
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import { T0, ALL_STATUSES, completedOutcome, failedOutcome } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of `collectMetrics`. */
export function metricsChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, add, claim, settle, jobIn } = s;
  describe('collectMetrics', () => {
    /** Runs one job of `type` from T0+at for durationMs; ends completed or dead_letter. */
    async function run(type: string, at: number, durationMs: number, ok = true, orgId = 'acme'): Promise<void> {
      const j = await add({ type, orgId, runAt: T0 + at }, T0 + at);
      const [c] = await claim({ now: T0 + at, types: [type], limit: 1 });
      if (c?.job.id !== j.id) throw new Error('claimed something else');
      await settle(j.id, c.attempt, ok ? completedOutcome() : failedOutcome(null), T0 + at + durationMs);
    }

    must('`collectMetrics` MUST report every status and priority (zeros included) for `orgId` (every org when null) as of `now`, and processing times (nearest-rank p95) and failure rates by type of the attempts that ended since `since`.', () => {
      it('reports zeros for every key on an empty store', async () => {
        const m = await store.collectMetrics({ orgId: null, since: T0, now: T0 });
        expect(m).toEqual({
          countsByStatus: Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])),
          queueDepthByPriority: { critical: 0, high: 0, normal: 0, low: 0 },
          processingTime: { count: 0, avgMs: 0, p95Ms: 0 },
          processingTimeByType: {},
          failureRateByType: {},
          oldestQueuedAgeMs: null,
        });
      });

      it('computes counts, queue depth, processing times (nearest-rank p95) and failure rates', async () => {
        for (let i = 1; i <= 20; i++) await run('email', i * 1000, i * 10); // 10..200 ms
        for (const d of [100, 200, 300]) await run('report', 50_000 + d, d);
        for (let i = 0; i < 5; i++) await run('email', 60_000 + i, 1, false);
        await run('email', -500_000, 7); // completed before `since`: not in the window
        await run('report', -500_000, 7, false);
        await run('email', 70_000, 5_000, true, 'globex');
        await add({ priority: 'high', runAt: T0 - 5000 }, T0 + 80_000);
        await add({ priority: 'high' }, T0 + 80_000);
        await add({ priority: 'low' }, T0 + 80_000);
        await add({ runAt: T0 + 10_000_000 }, T0 + 80_000);
        await jobIn('running', { orgId: 'acme' });

        const m = await store.collectMetrics({ orgId: 'acme', since: T0, now: T0 + 100_000 });
        expect(m.countsByStatus).toEqual({ waiting: 0, scheduled: 1, queued: 3, running: 1, retrying: 0, completed: 24, canceled: 0, dead_letter: 6 });
        expect(m.queueDepthByPriority).toEqual({ critical: 0, high: 2, normal: 0, low: 1 });
        expect(m.oldestQueuedAgeMs).toBe(105_000);
        expect(m.processingTimeByType['email']).toEqual({ count: 20, avgMs: 105, p95Ms: 190 });
        expect(m.processingTimeByType['report']).toEqual({ count: 3, avgMs: 200, p95Ms: 300 });
        expect(m.processingTime.count).toBe(23);
        expect(m.processingTime.avgMs).toBeCloseTo((2100 + 600) / 23, 6);
        expect(m.processingTime.p95Ms).toBe(200); // rank ceil(0.95 * 23) = 22 of [10..200 ∪ 100,200,300]
        expect(m.failureRateByType['email']).toEqual({ completed: 20, failed: 5, rate: 0.2 });
        expect(m.failureRateByType['report']).toEqual({ completed: 3, failed: 0, rate: 0 });

        const all = await store.collectMetrics({ orgId: null, since: T0, now: T0 + 100_000 });
        expect(all.countsByStatus.completed).toBe(25);
        expect(all.processingTimeByType['email']?.count).toBe(21);
        expect(all.processingTimeByType['email']?.p95Ms).toBe(200); // rank ceil(0.95 * 21) = 20: not the 5000 ms maximum

        const globex = await store.collectMetrics({ orgId: 'globex', since: T0, now: T0 + 100_000 });
        expect(globex.countsByStatus.completed).toBe(1);
        expect(globex.oldestQueuedAgeMs).toBeNull();
        expect(globex.failureRateByType).toEqual({ email: { completed: 1, failed: 0, rate: 0 } });
      });
    });
  });
}
