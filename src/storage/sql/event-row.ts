/**
 * Store event rows → {@link StoreEvent}: one mapping for both stores. A status event is a
 * history row joined with its job; a progress event a progress-event row joined with its job.
 * Numbers may arrive as strings or bigints from a driver (`toNumber`).
 */
import type { JobStatus } from '../../states.js';
import type { StoreEvent } from '../adapter.js';
import { parseJobError, toNumber } from './job-row.js';

/** Columns every event row has (the job's identity and when it happened). */
interface EventRowBase {
  job_id: string;
  type: string;
  org_id: string;
  owner_id: string;
  at: number | string;
}

/** A history row with its job's columns. */
export interface StatusEventRow extends EventRowBase {
  from_status: JobStatus | null;
  to_status: JobStatus;
  attempt: number | string;
  error: string | null;
}

/** A progress-event row with its job's columns. */
export interface ProgressEventRow extends EventRowBase {
  progress: number;
  message: string | null;
}

const base = (r: EventRowBase) => ({ jobId: r.job_id, type: r.type, orgId: r.org_id, ownerId: r.owner_id, at: new Date(toNumber(r.at)) });

/** A status event. */
export function statusEventOf(r: StatusEventRow): StoreEvent {
  return { kind: 'status', event: { ...base(r), from: r.from_status, to: r.to_status, attempt: toNumber(r.attempt), error: parseJobError(r.error) } };
}

/** A progress event. */
export function progressEventOf(r: ProgressEventRow): StoreEvent {
  return { kind: 'progress', event: { ...base(r), progress: Number(r.progress), message: r.message } };
}
