/**
 * Submits the job of one schedule tick: as the actor `schedule:<name>` (its ownerId), in the
 * schedule's org, with the dedupKey `schedule:<name>:<fire time ISO>` and dedup forced on, so
 * the tick makes one job across every engine on the store.
 */
import type { EngineCore } from '../client.js';
import { InvalidStateError, JobNotFoundError } from '../errors.js';
import { dedupHash } from '../payload.js';
import { prepareSubmission } from '../submission.js';
import type { ParsedSchedule } from './schedule-definition.js';
import { SCHEDULE_DEDUP_WINDOW_MS } from './schedule-runner.js';

/** The dedupKey of one tick. */
export function tickDedupKey(name: string, fireAt: number): string {
  return `schedule:${name}:${new Date(fireAt).toISOString()}`;
}

/** Submits one tick's job; resolves with its id, or the id of the job an earlier submit made. */
export async function submitTick(core: EngineCore, schedule: ParsedSchedule, fireAt: number): Promise<string> {
  const actorId = `schedule:${schedule.name}`;
  const dedupKey = tickDedupKey(schedule.name, fireAt);
  const now = core.clock.now();
  const job = await prepareSubmission({
    registry: core.registry,
    submitter: { actor: { userId: actorId, orgId: schedule.orgId, admin: true }, trusted: true },
    type: schedule.type,
    input: schedule.input ?? {},
    options: { dedupKey, orgId: schedule.orgId },
    now,
    payloadLimitBytes: core.payloadLimitBytes,
  });
  // Exactly one job per tick must not depend on the type's dedup settings (even dedupWindowMs: 0).
  job.dedupHash = dedupHash(job.type, job.orgId, job.input, dedupKey);
  job.dedupWindowMs = Math.max(job.dedupWindowMs, SCHEDULE_DEDUP_WINDOW_MS);
  const outcome = await core.instrumentation.sendOne(job, () => core.insertOne(job, actorId));
  switch (outcome.kind) {
    case 'inserted':
      return outcome.job.id;
    case 'duplicate':
      return outcome.existingJobId;
    case 'parent_not_found':
      throw new JobNotFoundError(outcome.parentId);
    case 'not_written':
      throw new InvalidStateError('Not written', 'queued');
  }
}

