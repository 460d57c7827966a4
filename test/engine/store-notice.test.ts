/**
 * A store notice (another process committed) wakes the dispatch loop and the event feed.
 * The claim goes first: a job waiting to start matters more than delivering an event one
 * turn earlier. The feed's read follows on a later turn and still delivers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, sqliteStorage, type StorageAdapter } from '../../src/index.js';
import { drain } from '../../src/testing/index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const noop = defineJobType({ name: 'noop', input: z.object({ n: z.number() }), handler: async () => ({}) });

/** A store whose notices the test sends by hand; records the order of claim and event reads. */
function noticedStore(inner: StorageAdapter) {
  const order: string[] = [];
  let notify: (() => void) | null = null;
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'capabilities') return { ...target.capabilities, pushWake: true };
      if (prop === 'subscribe') {
        return async (onNotice: () => void) => {
          notify = onNotice;
          return async () => void (notify = null);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        if (prop === 'readEvents' || prop === 'claimJobs' || prop === 'settleAndClaim') order.push(prop === 'readEvents' ? 'read' : 'claim');
        return f(...args);
      };
    },
  });
  return {
    store,
    order,
    notice() {
      if (!notify) throw new Error('the engine did not subscribe');
      notify();
    },
  };
}

describe('store notices', () => {
  it('a notice claims before the event feed reads, and the read still delivers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwing-notice-'));
    dirs.push(dir);
    const path = join(dir, 'jobs.sqlite');
    const { store, order, notice } = noticedStore(sqliteStorage({ path, synchronous: 'NORMAL' }));
    const engine = new JobEngine({ jobTypes: [noop], storage: store, pollIntervalMs: 60_000 });
    onTestFinished(() => engine.stop({ graceMs: 0 }));
    const heard: string[] = [];
    engine.on('job:status', (e) => heard.push(`${e.to} ${e.jobId}`));
    await engine.start();
    await drain(engine);

    // Another writer on the same file: this engine learns of its job only from the notice.
    const other = new JobEngine({ jobTypes: [noop], storage: sqliteStorage({ path, synchronous: 'NORMAL' }), worker: false });
    onTestFinished(() => other.stop({ graceMs: 0 }));
    await other.start();
    const job = await other.system.submit('noop', { n: 1 });

    order.length = 0;
    const completed = new Promise<void>((resolve) => {
      engine.on('job:status', (e) => {
        if (e.jobId === job.id && e.to === 'completed') resolve();
      });
    });
    notice();
    await completed;
    expect(order[0]).toBe('claim');
    expect(order).toContain('read');
    // The other engine's `queued` event reached this engine's listeners through the feed.
    expect(heard).toContain(`queued ${job.id}`);
  });
});
