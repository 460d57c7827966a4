/** Checks of the optional schedule methods (`loadSchedules`, `updateSchedule`, `advanceSchedule`, `listScheduleAudit`). */
import { expect } from 'vitest';
import { T0 } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of the schedule methods; skipped for a store without them. */
export function scheduleChecks(s: ConformanceSuite): void {
  const { describe, must, it, store } = s;
  describe('schedules', () => {
    must('`cursorAt` only moves forward (`max(stored, given)`)', () => {
        it('schedules (optional seam): cursor only moves forward, last run only to a later one; re-enable resets the cursor; audited', async ({ skip }) => {
          if (!store.loadSchedules || !store.advanceSchedule || !store.updateSchedule || !store.listScheduleAudit) return skip('store has no schedule methods');
          expect(await store.loadSchedules()).toEqual([]);
          await store.advanceSchedule({ name: 'n', cursorAt: T0 + 100, lastRunAt: T0 + 100, lastJobId: 'j2', now: T0 + 100 });
          await store.advanceSchedule({ name: 'n', cursorAt: T0 + 50, lastRunAt: T0 + 50, lastJobId: 'j1', now: T0 + 101 }); // a late writer
          expect(await store.loadSchedules()).toEqual([{ name: 'n', enabled: null, cursorAt: T0 + 100, lastRunAt: T0 + 100, lastJobId: 'j2' }]);
          await store.advanceSchedule({ name: 'n', cursorAt: T0 + 200, lastRunAt: null, lastJobId: null, now: T0 + 200 });
          expect((await store.loadSchedules())[0]).toMatchObject({ cursorAt: T0 + 200, lastRunAt: T0 + 100, lastJobId: 'j2' });
          await store.updateSchedule({ name: 'n', enabled: false, actorId: 'root', now: T0 + 300 });
          expect((await store.loadSchedules())[0]).toMatchObject({ enabled: false, cursorAt: T0 + 200 });
          await store.updateSchedule({ name: 'n', enabled: true, actorId: 'root', now: T0 + 900 });
          expect((await store.loadSchedules())[0]).toMatchObject({ enabled: true, cursorAt: T0 + 900 });
          await store.updateSchedule({ name: 'n', enabled: true, actorId: 'root', now: T0 + 950 }); // already enabled: cursor kept
          expect((await store.loadSchedules())[0]).toMatchObject({ cursorAt: T0 + 900 });
          const audit = await store.listScheduleAudit({ name: 'n' });
          expect(audit.map((a) => [a.actorId, a.changes, a.at.getTime()])).toEqual([
            ['root', { enabled: false }, T0 + 300],
            ['root', { enabled: true }, T0 + 900],
            ['root', { enabled: true }, T0 + 950],
          ]);
        });
    });
  });
}
