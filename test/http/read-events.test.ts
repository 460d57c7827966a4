/**
 * `client.readEvents`, what SSE resume stands on, on both stores: each record's cursor is a
 * resume point after exactly that event (no gap, no duplicate, whatever the page size), and
 * the read is scoped like `on`.
 */
import { describe, expect, it } from 'vitest';
import type { JobEventRecord } from '../../src/index.js';
import { drain } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { ACTORS, setupHttp } from './http-helpers.js';

const show = (r: JobEventRecord) => `${r.event.jobId.slice(-4)}:${r.name === 'job:status' ? r.event.to : r.event.progress}`;

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`client.readEvents (${kind.name})${kind.skip}`, () => {
    it('resuming at any record’s cursor yields exactly the records after it; pages of any size add up to the whole', async () => {
      const { engine } = await setupHttp(kind);
      const start = (await engine.system.readEvents()).cursor;
      const alice = engine.as(ACTORS.alice!);
      const bob = engine.as(ACTORS.bob!);
      await alice.submit('report', { name: 'a' });
      await bob.submit('add', { a: 1, b: 2 });
      await alice.submit('add', { a: 3, b: 4 });
      await drain(engine);
      const all = await engine.system.readEvents({ after: start, limit: 1000 });
      expect(all.done).toBe(true);
      expect(all.items.length).toBeGreaterThanOrEqual(12);
      for (let i = 0; i < all.items.length; i++) {
        const rest = await engine.system.readEvents({ after: all.items[i]!.cursor, limit: 1000 });
        expect(rest.items.map(show)).toEqual(all.items.slice(i + 1).map(show));
      }
      for (const size of [1, 2, 5]) {
        const got: JobEventRecord[] = [];
        let cursor = start;
        for (let n = 0; n < 100; n++) {
          const page = await engine.system.readEvents({ after: cursor, limit: size });
          got.push(...page.items);
          cursor = page.cursor;
          if (page.done) break;
        }
        expect(got.map(show)).toEqual(all.items.map(show));
      }
      // Scoped: alice reads only acme's events; jobId narrows further.
      const mine = await alice.readEvents({ after: start, limit: 1000 });
      expect(mine.items.map(show)).toEqual(all.items.filter((r) => r.event.orgId === 'acme').map(show));
      const one = all.items[0]!.event.jobId;
      const only = await alice.readEvents({ after: start, limit: 1000, jobId: one });
      expect(only.items.every((r) => r.event.jobId === one)).toBe(true);
      expect((await bob.readEvents({ after: start, limit: 1000, jobId: one })).items).toEqual([]);
      await expect(alice.readEvents({ after: 'bogus!', limit: 10 })).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(alice.readEvents({ limit: 0 } as never)).rejects.toMatchObject({ code: 'VALIDATION' });
    });
  });
}
