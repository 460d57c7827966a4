/**
 * The zod schemas of the HTTP wire format: they validate requests AND generate the OpenAPI
 * document, so the two can never disagree. Request schemas reuse the engine's own option
 * schemas (one rule in one place) and only change what differs on the wire: instants are
 * ISO-8601 strings, query values are strings. The engine validates again behind them.
 */
import { z } from 'zod';
import { jobTypeSettingsSchema } from '../job-type-settings.js';
import { ERROR_TYPES, JOB_STATUSES, PRIORITIES } from '../states.js';
import { listOptionsSchema, metricsOptionsSchema, submitOptionsSchema } from '../validation.js';

/** An ISO-8601 instant with `Z` or an offset, parsed to a Date. */
/** Named schemas: the OpenAPI document's `components.schemas` (our own registry, not zod's global one). */
export const wireRegistry = z.registry<{ id: string; description?: string }>();

const isoInstant = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .meta({ description: 'ISO-8601 instant, e.g. 2026-01-01T00:00:00Z' });

const isoOut = z.iso.datetime().meta({ description: 'ISO-8601 instant (UTC)' });

// ── requests ────────────────────────────────────────────────────────────────

/** `options` of a submit: as `client.submit`, with `runAt` as an ISO string. */
export const submitOptionsWire = z
  .object({ ...submitOptionsSchema.shape, runAt: isoInstant.optional() })
  .strict()
  .register(wireRegistry, { id: 'SubmitOptions', description: 'As client.submit. orgId is accepted only for trusted actors (engine.system).' });

/** Body of `POST /jobs`. */
export const submitBody = z
  .object({
    type: z.string().min(1).max(100).meta({ description: 'A registered job type name' }),
    input: z.unknown().meta({ description: "Validated against the job type's input schema" }),
    options: submitOptionsWire.optional(),
  })
  .strict()
  .register(wireRegistry, { id: 'SubmitRequest' });

/** Body of `POST /jobs/batch`. */
export const batchBody = z
  .object({ jobs: z.array(submitBody).max(1000) })
  .strict()
  .register(wireRegistry, { id: 'SubmitBatchRequest', description: 'All jobs are written in one transaction, or none' });

const lo = listOptionsSchema.shape;

/** Query of `GET /jobs`; `status` and `type` may repeat. */
export const listQuery = z
  .object({
    status: z.array(z.enum(JOB_STATUSES)).min(1).max(100).optional(),
    type: z.array(z.string().min(1).max(100)).min(1).max(100).optional(),
    createdAfter: isoInstant.optional(),
    createdBefore: isoInstant.optional(),
    ownerId: lo.ownerId,
    orgId: lo.orgId.meta({ description: 'Admins only' }),
    limit: z.coerce.number().int().min(1).max(500).optional().meta({ description: 'Page size (Default: 50)' }),
    cursor: lo.cursor.meta({ description: 'nextCursor of the previous page' }),
  })
  .strict();

/** Query of `GET /metrics`. */
export const metricsQuery = z
  .object({
    since: isoInstant.optional().meta({ description: 'Start of the window (Default: 24 h ago)' }),
    orgId: metricsOptionsSchema.shape.orgId.meta({ description: 'Admins only' }),
  })
  .strict();

/** Query of `GET /events`. */
export const eventsQuery = z.object({ jobId: z.string().min(1).max(100).optional().meta({ description: 'Only events of this job' }) }).strict();

/** Body of `PATCH /job-types/:name`: the settings to change. */
export const jobTypePatchBody = jobTypeSettingsSchema.register(wireRegistry, { id: 'JobTypeSettingsChange' });

/** Body of cancel and retry: nothing, or an empty object. */
export const emptyBody = z.object({}).strict();

// ── responses (documentation only: the engine produces them) ───────────────────

const jobError = z
  .object({ type: z.enum(ERROR_TYPES), message: z.string(), name: z.string().optional() })
  .register(wireRegistry, { id: 'JobError' });

export const jobSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    orgId: z.string(),
    ownerId: z.string(),
    status: z.enum(JOB_STATUSES),
    priority: z.enum(PRIORITIES),
    input: z.unknown(),
    output: z.unknown(),
    progress: z.number().min(0).max(100),
    progressMessage: z.string().nullable(),
    checkpoint: z.unknown(),
    error: jobError.nullable(),
    retryCount: z.number().int(),
    maxRetries: z.number().int(),
    nextRetryAt: isoOut.nullable(),
    runAt: isoOut,
    timeoutMs: z.number().int(),
    dependsOn: z.array(z.string()),
    dedupHash: z.string().nullable(),
    createdAt: isoOut,
    startedAt: isoOut.nullable(),
    completedAt: isoOut.nullable(),
    canceledAt: isoOut.nullable(),
    canceledBy: z.string().nullable(),
    updatedAt: isoOut,
  })
  .register(wireRegistry, { id: 'Job' });

export const jobListSchema = z.object({ items: z.array(jobSchema), nextCursor: z.string().nullable() }).register(wireRegistry, { id: 'JobPage' });
export const jobItemsSchema = z.object({ items: z.array(jobSchema) }).register(wireRegistry, { id: 'JobItems' });

const historyEntry = z
  .object({
    jobId: z.string(),
    at: isoOut,
    from: z.enum(JOB_STATUSES).nullable(),
    to: z.enum(JOB_STATUSES),
    attempt: z.number().int(),
    actorId: z.string(),
    message: z.string().nullable(),
    error: jobError.nullable(),
  })
  .register(wireRegistry, { id: 'JobHistoryEntry' });
export const historySchema = z.object({ items: z.array(historyEntry) }).register(wireRegistry, { id: 'JobHistory' });

export const explanationSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(JOB_STATUSES),
    reason: z.enum([
      'waiting_on_parent', 'scheduled', 'retry_backoff', 'snoozed', 'type_paused', 'type_disabled',
      'concurrency_limit', 'rate_limited', 'no_worker_for_type', 'ready', 'running', 'finished',
    ]),
    detail: z.string().meta({ description: 'One sentence: the parent, the limit and its holders, the lease holder and its last heartbeat, or the next run time' }),
    since: isoOut,
  })
  .register(wireRegistry, { id: 'JobExplanation' });

const processingTime = z.object({ count: z.number().int(), avgMs: z.number(), p95Ms: z.number() }).register(wireRegistry, { id: 'ProcessingTime' });
export const metricsSchema = z
  .object({
    countsByStatus: z.record(z.enum(JOB_STATUSES), z.number().int()),
    queueDepthByPriority: z.record(z.enum(PRIORITIES), z.number().int()),
    processingTime,
    processingTimeByType: z.record(z.string(), processingTime),
    failureRateByType: z.record(z.string(), z.object({ completed: z.number().int(), failed: z.number().int(), rate: z.number() })),
    oldestQueuedAgeMs: z.number().nullable(),
  })
  .register(wireRegistry, { id: 'Metrics' });

export const jobTypeInfoSchema = z
  .object({
    name: z.string(),
    displayName: z.string(),
    priority: z.enum(PRIORITIES),
    timeoutMs: z.number().int(),
    maxRetries: z.number().int(),
    enabled: z.boolean(),
    requiresPermission: z.string().nullable(),
    dedupWindowMs: z.number().int(),
  })
  .catchall(z.unknown())
  .register(wireRegistry, { id: 'JobTypeInfo' });
export const jobTypesSchema = z.object({ items: z.array(jobTypeInfoSchema) }).register(wireRegistry, { id: 'JobTypes' });

// ── schedules (issue 11) ──
/** Body of `PATCH /schedules/:name`. */
export const schedulePatchBody = z.object({ enabled: z.boolean() }).strict().register(wireRegistry, { id: 'ScheduleChange' });
export const scheduleInfoSchema = z
  .object({
    name: z.string(),
    cron: z.string(),
    timezone: z.string(),
    type: z.string(),
    orgId: z.string(),
    catchUp: z.enum(['latest', 'none', 'all']),
    enabled: z.boolean(),
    nextRunAt: isoOut.nullable(),
    lastRunAt: isoOut.nullable(),
    lastJobId: z.string().nullable(),
  })
  .register(wireRegistry, { id: 'ScheduleInfo' });
export const schedulesSchema = z.object({ items: z.array(scheduleInfoSchema) }).register(wireRegistry, { id: 'Schedules' });

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable code, e.g. VALIDATION, NOT_FOUND, UNAUTHENTICATED' }),
      message: z.string(),
      issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), code: z.string().optional() })).optional(),
      existingJobId: z.string().optional(),
    }),
  })
  .register(wireRegistry, { id: 'Error' });
