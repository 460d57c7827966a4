/**
 * An engine that stops hands maintenance leadership over at once: the next engine on the
 * store leads on its next tick instead of waiting out the stopped one's lease (a short-lived
 * process such as the CLI would otherwise hold maintenance back for leaseMs).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine } from '../../src/index.js';
import { engineInternals } from '../../src/engine.js';
import { FakeClock } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';

const t = defineJobType({ name: 'h', input: z.object({}), async handler() {} });

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`maintenance leadership on stop (${kind.name})${kind.skip}`, () => {
    it('is released by stop(), so another engine takes it without waiting for the lease to expire', async () => {
      kind.fresh();
      const clock = new FakeClock();
      const a = new JobEngine({ jobTypes: [t], storage: kind.open(), clock, leaseMs: 60_000, pollIntervalMs: 60_000 });
      await a.start();
      await a[engineInternals].maintain(); // one maintenance tick now: A leads
      const storeB = kind.open();
      const b = new JobEngine({ jobTypes: [t], storage: storeB, clock, leaseMs: 60_000, pollIntervalMs: 60_000 });
      await b.start();
      onTestFinished(() => b.stop({ graceMs: 0 }));
      const probe = kind.open();
      await probe.migrate();
      onTestFinished(() => probe.close());
      // A holds it; a third owner cannot take it now.
      expect(await probe.acquireLeadership({ name: 'maintenance', ownerId: 'probe', now: clock.now(), ttlMs: 1 })).toBe(false);
      await a.stop({ graceMs: 0 });
      // No time has passed: only a handover makes it free.
      expect(await probe.acquireLeadership({ name: 'maintenance', ownerId: 'probe', now: clock.now(), ttlMs: 1 })).toBe(true);
    });
  });
}
