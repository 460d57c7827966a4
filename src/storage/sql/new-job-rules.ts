/**
 * What a store decides about a job it inserts, in one place for every store: its first status
 * (from its parents and runAt), the error of a job whose parent failed, and the inserted job
 * as `getJob` will read it. (Both stores restated these rules before.)
 */
import { FAILED_PARENT_STATUSES, type JobStatus } from '../../states.js';
import type { Job, JobError } from '../../types.js';
import type { NewJob } from '../adapter.js';
import { SYSTEM_ACTOR } from './history-insert.js';

/** The `dependency_failed` error of a job whose parent ended canceled or dead_letter. */
export function dependencyFailedError(parentId: string, parentStatus: JobStatus): JobError {
  return { type: 'dependency_failed', message: `Parent job ${parentId} ended ${parentStatus}` };
}

/**
 * A new job's first status and error, given the statuses of its parents (in `dependsOn`
 * order; every parent must exist): `canceled` with dependency_failed if a parent failed, else
 * `waiting` if one is not completed, else `scheduled` if `runAt > now`, else `queued`.
 */
export function initialStatus(parents: readonly { id: string; status: JobStatus }[], runAt: number, now: number): { status: JobStatus; error: JobError | null } {
  const failed = parents.find((p) => FAILED_PARENT_STATUSES.includes(p.status));
  if (failed) return { status: 'canceled', error: dependencyFailedError(failed.id, failed.status) };
  if (parents.some((p) => p.status !== 'completed')) return { status: 'waiting', error: null };
  return { status: runAt > now ? 'scheduled' : 'queued', error: null };
}

/** The job just inserted, as `getJob` will read it. */
export function insertedJob(job: NewJob, status: JobStatus, error: JobError | null, parentIds: string[], now: number): Job {
  const canceled = status === 'canceled';
  return {
    id: job.id,
    type: job.type,
    orgId: job.orgId,
    ownerId: job.ownerId,
    status,
    priority: job.priority,
    input: job.input,
    output: null,
    progress: 0,
    progressMessage: null,
    checkpoint: null,
    error,
    retryCount: 0,
    maxRetries: job.maxRetries,
    nextRetryAt: null,
    runAt: new Date(job.runAt),
    timeoutMs: job.timeoutMs,
    dependsOn: parentIds,
    dedupHash: job.dedupHash,
    createdAt: new Date(now),
    startedAt: null,
    completedAt: null,
    canceledAt: canceled ? new Date(now) : null,
    canceledBy: canceled ? SYSTEM_ACTOR : null,
    updatedAt: new Date(now),
  };
}
