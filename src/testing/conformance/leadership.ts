/**
 * Conformance checks: maintenance leadership (`acquireLeadership`).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import { T0 } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of maintenance leadership (`acquireLeadership`). */
export function leadershipChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, peer } = s;
  describe('acquireLeadership', () => {
    must("`acquireLeadership` MUST be exclusive: while one owner holds a name's unexpired lease, no other owner acquires it, even from another process; its holder renews it.", () => {
      it('is exclusive until expiry, renewable by its holder, and per name', async () => {
        const lead = (ownerId: string, now: number, name = 'maintenance') => store.acquireLeadership({ name, ownerId, now, ttlMs: 1000 });
        expect(await lead('a', T0)).toBe(true);
        expect(await lead('b', T0 + 1)).toBe(false);
        expect(await lead('a', T0 + 500)).toBe(true); // renews until T0 + 1500
        expect(await lead('b', T0 + 1499)).toBe(false);
        expect(await lead('b', T0 + 1, 'other-lease')).toBe(true);
        expect(await lead('b', T0 + 1500)).toBe(true);
        expect(await lead('a', T0 + 1501)).toBe(false);
      });

      it('two connections racing for a free lease: exactly one wins', async ({ skip }) => {
        const other = await peer();
        if (other === null) return skip('no second connection (factory.connectPeer not provided)');
        const results = await Promise.all([
          store.acquireLeadership({ name: 'm', ownerId: 'a', now: T0, ttlMs: 1000 }),
          other.acquireLeadership({ name: 'm', ownerId: 'b', now: T0, ttlMs: 1000 }),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });
  });
}
