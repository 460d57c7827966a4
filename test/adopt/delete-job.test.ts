/** `admin.deleteJob(id)`: one finished job and its history and events, gone; admin only. */
import { describe, expect, it } from 'vitest';
import { InvalidStateError, JobNotFoundError, PermissionDeniedError } from '../../src/index.js';
import { drain, EventRecorder } from '../../src/testing/index.js';
import { add, broken, gate } from '../helpers/fixtures.js';
import { storeKinds } from '../helpers/stores.js';
import { sharedStore } from './shared-store.js';

for (const kind of storeKinds()) describe(`deleteJob on ${kind.name}${kind.skip}`, () => {
  it.skipIf(kind.skip !== '')('an admin deletes a finished job with its history; other engines no longer see it', async () => {
    const s = sharedStore(kind);
    const g = gate();
    const engine = await s.engine({ jobTypes: [add, broken, g.type] });
    const other = await s.engine({ jobTypes: [add, broken, g.type], worker: false });
    const admin = engine.as({ userId: 'root', orgId: 'ops', admin: true });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const done = await alice.submit('add', { a: 1, b: 2 });
    const dead = await alice.submit('broken', {});
    const kept = await alice.submit('add', { a: 5, b: 5 });
    await drain(engine);

    await expect(alice.deleteJob(done.id)).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await alice.get(done.id)).status).toBe('completed');
    await admin.deleteJob(done.id);
    await admin.deleteJob(dead.id);
    for (const id of [done.id, dead.id]) {
      await expect(alice.get(id)).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(alice.history(id)).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(other.system.get(id)).rejects.toBeInstanceOf(JobNotFoundError);
    }
    expect((await admin.list()).items.map((j) => j.id)).toEqual([kept.id]);
    await expect(admin.deleteJob(done.id)).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(admin.deleteJob('nope')).rejects.toBeInstanceOf(JobNotFoundError);

    // A live job is refused and untouched; once canceled it can go.
    const live = await alice.submit('gated', { key: 'k' });
    await g.nextStart();
    const err = await admin.deleteJob(live.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidStateError);
    expect(err).toMatchObject({ status: 'running', message: expect.stringMatching(/Cannot delete a running job.*cancel it first/) });
    expect((await alice.get(live.id)).status).toBe('running');
    const events = new EventRecorder(alice);
    await alice.cancel(live.id);
    await events.next('job:status', (e) => e.jobId === live.id && e.to === 'canceled');
    await admin.deleteJob(live.id);
    await expect(alice.get(live.id)).rejects.toBeInstanceOf(JobNotFoundError);
    // The metrics no longer count the deleted jobs.
    expect((await admin.metrics()).countsByStatus).toMatchObject({ completed: 1, dead_letter: 0, canceled: 0 });
  });
});
