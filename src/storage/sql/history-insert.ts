/**
 * Dialect-neutral pieces of history writes, shared by every SQL store.
 */
import type { JobStatus } from '../../states.js';
import type { JobError } from '../../types.js';

/** Actor of transitions a store makes on its own (promotion, dependency release/cascade). */
export const SYSTEM_ACTOR = 'system';

/** One history entry to append. */
export interface HistoryInsert {
  jobId: string;
  at: number;
  from: JobStatus | null;
  to: JobStatus;
  attempt: number;
  actorId: string;
  message: string | null;
  error: JobError | null;
}
