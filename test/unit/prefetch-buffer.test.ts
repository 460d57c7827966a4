/** The claim-ahead buffer: when it prefetches, its order, and how jobs leave it. */
import { describe, expect, it } from 'vitest';
import type { ClaimedJob } from '../../src/storage/adapter.js';
import type { Job } from '../../src/types.js';
import type { Priority } from '../../src/states.js';
import { PrefetchBuffer, SHORT_HANDLER_MS } from '../../src/scheduler/prefetch-buffer.js';

function claimed(id: string, priority: Priority = 'normal', runAt = 1_000): ClaimedJob {
  return { job: { id, priority, runAt: new Date(runAt) } as Job, attempt: 1 };
}
const ids = (jobs: (ClaimedJob | undefined)[]) => jobs.map((c) => c?.job.id);

describe('PrefetchBuffer', () => {
  it('prefetches nothing before 8 handlers were seen, then max(concurrency, 32) while they are short', () => {
    const b = new PrefetchBuffer(4, () => {});
    for (let i = 0; i < 7; i++) b.observe(1);
    expect(b.depth()).toBe(0);
    b.observe(1);
    expect(b.depth()).toBe(32);
    expect(new PrefetchBuffer(50, () => {}).depth()).toBe(0);
    const wide = new PrefetchBuffer(50, () => {});
    for (let i = 0; i < 8; i++) wide.observe(0);
    expect(wide.depth()).toBe(50);
  });

  it('stops prefetching once handlers get long (moving average at or over SHORT_HANDLER_MS)', () => {
    const b = new PrefetchBuffer(4, () => {});
    for (let i = 0; i < 8; i++) b.observe(1);
    for (let i = 0; i < 40 && b.depth() > 0; i++) b.observe(SHORT_HANDLER_MS * 10);
    expect(b.depth()).toBe(0);
  });

  it('hands jobs out in claim order across claims: priority, then runAt, then arrival', () => {
    const b = new PrefetchBuffer(4, () => {});
    b.add([claimed('low-1', 'low'), claimed('normal-late', 'normal', 2_000)], 0);
    b.add([claimed('critical', 'critical', 5_000), claimed('normal-early', 'normal', 1_500), claimed('low-2', 'low')], 0);
    expect(ids([b.shift(), b.shift(), b.shift(), b.shift(), b.shift(), b.shift()])).toEqual(['critical', 'normal-early', 'normal-late', 'low-1', 'low-2', undefined]);
  });

  it('takes out the jobs claimed at or before a time, and all of them without one', () => {
    const b = new PrefetchBuffer(4, () => {});
    b.add([claimed('a')], 100);
    b.add([claimed('b')], 200);
    b.add([claimed('c')], 300);
    expect(ids(b.takeWaitingSince(200))).toEqual(['a', 'b']);
    expect(b.size).toBe(1);
    expect(ids(b.takeWaitingSince())).toEqual(['c']);
    expect(b.size).toBe(0);
  });

  it('a lease aborted by a heartbeat removes its job (once) and reports it; remove() reports presence', () => {
    const aborted: [string, string][] = [];
    const b = new PrefetchBuffer(4, (c, reason) => aborted.push([c.job.id, reason]));
    b.add([claimed('a'), claimed('b')], 0);
    const leases = b.leases();
    expect(leases.map((l) => [l.job.id, l.attempt])).toEqual([['a', 1], ['b', 1]]);
    expect(b.leases()[0]).toBe(leases[0]); // stable identity: the lease keeper compares by it
    leases[0]!.abort('canceled');
    leases[0]!.abort('canceled');
    expect(aborted).toEqual([['a', 'canceled']]);
    expect(b.remove('a')).toBe(false);
    expect(b.remove('b')).toBe(true);
    expect(b.size).toBe(0);
  });
});
