/**
 * Conformance checks: the event tail (`readEvents`) and push wake-ups (`subscribe`).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import type { StoreEvent } from '../../storage/adapter.js';
import { T0, completedOutcome, failedOutcome, newJob } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of the event tail (`readEvents`) and push wake-ups (`subscribe`). */
export function eventChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, insert, add, claimOne, settle, transitions, peer } = s;
  describe('readEvents', () => {
    must('Events committed after `after`, in commit order (status events of one job in the order of its transitions), at most `limit`. `after: null` returns no events and the cursor of the current end, so a new engine starts from now.', () => {
      it('starts at the end with after: null, then tails status and progress events in order', async () => {
        await add(); // before the start: never reported
        const start = await store.readEvents({ after: null, limit: 100 });
        expect(start.events).toEqual([]);
        expect((await store.readEvents({ after: start.cursor, limit: 100 })).events).toEqual([]);

        const j = await add({ type: 'report', ownerId: 'bob' }, T0 + 1);
        const c = await claimOne(T0 + 2, ['report']);
        await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 50, message: 'half', now: T0 + 3 });
        await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 80, message: null, now: T0 + 4 });
        await settle(j.id, c.attempt, completedOutcome(), T0 + 5);

        const r = await store.readEvents({ after: start.cursor, limit: 100 });
        const base = { jobId: j.id, type: 'report', orgId: 'acme', ownerId: 'bob' };
        expect(r.events).toEqual<StoreEvent[]>([
          { kind: 'status', event: { ...base, from: null, to: 'queued', at: new Date(T0 + 1), attempt: 0, error: null } },
          { kind: 'status', event: { ...base, from: 'queued', to: 'running', at: new Date(T0 + 2), attempt: 1, error: null } },
          { kind: 'progress', event: { ...base, progress: 50, message: 'half', at: new Date(T0 + 3) } },
          { kind: 'progress', event: { ...base, progress: 80, message: null, at: new Date(T0 + 4) } },
          { kind: 'status', event: { ...base, from: 'running', to: 'completed', at: new Date(T0 + 5), attempt: 1, error: null } },
        ]);
        expect((await store.readEvents({ after: r.cursor, limit: 100 })).events).toEqual([]);
      });

      it('pages with limit without losing or repeating events', async () => {
        const start = await store.readEvents({ after: null, limit: 1 });
        const j = await add();
        const c = await claimOne(T0 + 1);
        for (let i = 1; i <= 4; i++) await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: i * 20, message: null, now: T0 + 1 + i });
        await settle(j.id, c.attempt, failedOutcome(T0 + 100), T0 + 10);
        const seen: string[] = [];
        let cursor = start.cursor;
        for (let i = 0; i < 20; i++) {
          const page = await store.readEvents({ after: cursor, limit: 2 });
          expect(page.events.length).toBeLessThanOrEqual(2);
          cursor = page.cursor;
          if (page.events.length === 0) break;
          for (const e of page.events) seen.push(e.kind === 'status' ? `${e.event.from}>${e.event.to}` : `p${e.event.progress}`);
        }
        expect(seen).toEqual(['null>queued', 'queued>running', 'p20', 'p40', 'p60', 'p80', 'running>retrying']);
      });

      it('sees events committed through another connection', async ({ skip }) => {
        const other = await peer();
        if (other === null) return skip('no second connection (factory.connectPeer not provided)');
        const start = await other.readEvents({ after: null, limit: 10 });
        const j = await add();
        const r = await other.readEvents({ after: start.cursor, limit: 10 });
        expect(r.events).toEqual([{ kind: 'status', event: expect.objectContaining({ jobId: j.id, to: 'queued' }) }]);
      });
    });
  });

  describe('subscribe', () => {
    must('pushWake stores only: calls `onNotice` soon after another process commits a new job or an event.', () => {
      /** Subscribes to the running check's store; `next()` resolves at the next notice. */
      async function listen(): Promise<{ next: () => Promise<void>; stop: () => Promise<void> }> {
        if (!store.subscribe) throw new Error('a pushWake store MUST implement subscribe');
        let wake: (() => void) | null = null;
        const stop = await store.subscribe(() => wake?.());
        return { next: () => new Promise<void>((resolve) => (wake = resolve)), stop };
      }

      it('a pushWake store implements subscribe; a store without it does not claim pushWake', async ({ skip }) => {
        if (!store.capabilities.pushWake) {
          // Nothing to prove: the engine polls such a store and never calls subscribe.
          return skip('the store does not claim the pushWake capability');
        }
        expect(typeof store.subscribe).toBe('function');
      });

      it('wakes a subscriber when another process commits a new job', async ({ skip }) => {
        if (!store.capabilities.pushWake) return skip('the store does not claim the pushWake capability');
        const other = await peer();
        if (other === null) return skip('no second connection (connectPeer not provided)');
        const sub = await listen();
        try {
          const heard = sub.next();
          const [o] = await insert([newJob()], { on: other });
          expect(o?.kind).toBe('inserted');
          await heard;
        } finally {
          await sub.stop();
        }
      });

      it('wakes a subscriber when another process commits an event (progress of a running job)', async ({ skip }) => {
        if (!store.capabilities.pushWake) return skip('the store does not claim the pushWake capability');
        const other = await peer();
        if (other === null) return skip('no second connection (connectPeer not provided)');
        // Set up through this store before subscribing: its own writes are not the notice awaited.
        const j = await add();
        const c = await claimOne(T0 + 1);
        const sub = await listen();
        try {
          const heard = sub.next();
          expect(await other.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 10, message: null, now: T0 + 2 })).toEqual({ kind: 'written' });
          await heard;
        } finally {
          await sub.stop();
        }
      });
    });
  });
}
