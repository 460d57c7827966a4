/**
 * The maintenance leader trims the progress-event tail every tick (`pruneProgressEvents`),
 * keeping the last PROGRESS_EVENT_RETENTION_MS; promotion no longer does it on the side.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/index.js';
import { Maintenance, PROGRESS_EVENT_RETENTION_MS } from '../../src/maintenance/maintenance.js';
import { JobRegistry } from '../../src/registry.js';
import { FakeClock } from '../../src/testing/index.js';
import { newJob, T0 } from '../../src/testing/conformance/index.js';
import { storeKinds } from '../helpers/stores.js';

const t = defineJobType({ name: 'p', input: z.object({}), async handler() {} });

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`maintenance trims progress events (${kind.name})${kind.skip}`, () => {
    it('a tick deletes progress events older than the retention and keeps newer ones', async () => {
      kind.fresh();
      const store = kind.open();
      await store.migrate();
      onTestFinished(() => store.close());
      const job = newJob({ type: 'p' });
      await store.insertJobs({ jobs: [job], actorId: 't', now: T0, atomic: true });
      const [c] = await store.claimJobs({ workerId: 'w', types: ['p'], limit: 1, now: T0, leaseMs: 10 * PROGRESS_EVENT_RETENTION_MS });
      const start = await store.readEvents({ after: null, limit: 10 });
      await store.recordProgress({ jobId: job.id, attempt: c!.attempt, progress: 10, message: 'old', now: T0 + 1 });
      await store.recordProgress({ jobId: job.id, attempt: c!.attempt, progress: 90, message: 'new', now: T0 + PROGRESS_EVENT_RETENTION_MS + 10 });
      const clock = new FakeClock(T0 + PROGRESS_EVENT_RETENTION_MS + 20);
      const m = new Maintenance({ storage: store, registry: new JobRegistry([t]), clock, workerId: 'leader', leaseMs: 3_000, retentionMaxAgeMs: 86_400_000, random: () => 0.5, reportError: (e) => { throw e; } });
      await m.tick();
      const left = (await store.readEvents({ after: start.cursor, limit: 10 })).events;
      expect(left.map((e) => (e.kind === 'progress' ? e.event.message : e.kind))).toEqual(['new']);
      expect((await store.getJob({ id: job.id, orgId: null }))?.progress).toBe(90);
    });
  });
}
