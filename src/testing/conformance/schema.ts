/**
 * Conformance checks: capabilities and schema (`capabilities`, `migrate`).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import { listAll } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of capabilities and schema (`capabilities`, `migrate`). */
export function schemaChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, add } = s;
  describe('capabilities and schema', () => {
    must("`capabilities` MUST tell the truth about the store: the engine and the kit branch on them, never on a store's name.", () => {
      it('reports the capabilities the kit was told about (or, untold, three booleans)', () => {
        const declared = s.options.capabilities;
        if (declared) expect(store.capabilities).toEqual(declared);
        else expect(store.capabilities).toEqual({ multiProcess: expect.any(Boolean), pushWake: expect.any(Boolean), databaseClock: expect.any(Boolean) });
      });
    });

    must('`migrate` MUST be idempotent and safe when many processes call it at once.', () => {
      it('migrate() is idempotent', async () => {
        await store.migrate();
        await store.migrate();
        await add();
        await store.migrate();
        expect((await store.listJobs(listAll())).items).toHaveLength(1);
      });
    });
  });
}
