/**
 * jobwing: an embeddable background-job engine for Node.js.
 * SQLite by default; PostgreSQL through `jobwing/postgres`.
 * @module jobwing
 */
export { JobEngine, type JobEngineOptions, type StopOptions } from './engine.js';
export { JobClient, SUBMIT_MANY_MAX_ENTRIES, type JobId, type TypedJob, type SubmitManyEntry } from './client.js';
export {
  defineJobType,
  JOB_TYPE_NAME,
  type AnyImplementedJobType,
  type AnyJobType,
  type CheckpointOf,
  type InputOf,
  type JobContext,
  type JobContextInfo,
  type JobType,
  type JobHandler,
  type JobTypeDeclaration,
  type JobTypeDeclarationDefinition,
  type JobTypeDefinition,
  type JobTypeSpec,
  type NameOf,
  type OutputOf,
  type ParsedInputOf,
  type TypeByName,
} from './define-job-type.js';
export type { WaitForOptions } from './wait-for.js';
export type { CatchUp, ScheduleDefinition } from './schedules/schedule-definition.js';
export type { ScheduleChanges, ScheduleInfo } from './schedules/schedule-info.js';
export type { IsolationOptions } from './isolation/isolation-options.js';
export { WorkerCrashedError } from './isolation/worker-crashed-error.js';
export type { EngineHealth, HealthOptions } from './health.js';
export { sqliteStorage, type SqliteStorageOptions } from './storage/sqlite/sqlite-storage.js';
export * from './errors.js';
export { computeBackoff, DEFAULT_BACKOFF, type BackoffPolicy } from './retry/backoff.js';
export { classifyError, type ClassifyError, type ErrorClass } from './retry/classify.js';
export {
  JOB_STATUSES,
  PRIORITIES,
  ERROR_TYPES,
  isTerminal,
  type AbortReason,
  type ErrorType,
  type JobStatus,
  type Priority,
} from './states.js';
export type { EngineErrorEvent, EngineStoppingEvent, JobwingEventName, JobwingEvents } from './events.js';
export type { Clock } from './clock.js';
export type * from './types.js';
export type * from './storage/adapter.js';
export { prometheusText, PROMETHEUS_CONTENT_TYPE, type PrometheusTextOptions } from './metrics/prometheus.js';
export type { ExplainReason, JobExplanation } from './explain.js';
