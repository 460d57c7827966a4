/**
 * Conformance checks: job type settings (`loadJobTypeSettings`, `updateJobTypeSettings`, `listJobTypeAudit`).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import { T0 } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of job type settings (`loadJobTypeSettings`, `updateJobTypeSettings`, `listJobTypeAudit`). */
export function jobTypeChecks(s: ConformanceSuite): void {
  const { describe, must, it, store } = s;
  describe('job type settings', () => {
    must('Merges `changes` into the stored override of `name` and appends an audit entry, atomically.', () => {
      it('merges changes per type and keeps an audit trail, oldest first', async () => {
        expect(await store.loadJobTypeSettings()).toEqual({});
        await store.updateJobTypeSettings({ name: 'email', changes: { enabled: false }, actorId: 'root', now: T0 });
        await store.updateJobTypeSettings({ name: 'email', changes: { priority: 'high', requiresPermission: null }, actorId: 'ops', now: T0 + 1 });
        await store.updateJobTypeSettings({ name: 'email', changes: { enabled: true }, actorId: 'root', now: T0 + 2 });
        await store.updateJobTypeSettings({ name: 'report', changes: { maxRetries: 9 }, actorId: 'root', now: T0 + 3 });
        expect(await store.loadJobTypeSettings()).toEqual({
          email: { enabled: true, priority: 'high', requiresPermission: null },
          report: { maxRetries: 9 },
        });
        expect(await store.listJobTypeAudit({ name: 'email' })).toEqual([
          { name: 'email', actorId: 'root', at: new Date(T0), changes: { enabled: false } },
          { name: 'email', actorId: 'ops', at: new Date(T0 + 1), changes: { priority: 'high', requiresPermission: null } },
          { name: 'email', actorId: 'root', at: new Date(T0 + 2), changes: { enabled: true } },
        ]);
        expect(await store.listJobTypeAudit({ name: 'nope' })).toEqual([]);
      });
    });
  });
}
