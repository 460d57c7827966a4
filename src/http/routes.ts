/**
 * The route table: each JSON route's method, path, schemas and what it does, in one place.
 * The handler wires these into Hono, the OpenAPI document is generated from them, and the
 * 405 check asks them which methods a path has. Every route acts through the actor's
 * scoped client, so scoping and permissions are exactly the client's.
 */
import type { z } from 'zod';
import type { JobClient } from '../client.js';
import { prometheusText, PROMETHEUS_CONTENT_TYPE } from '../metrics/prometheus.js';
import {
  batchBody,
  emptyBody,
  eventsQuery,
  historySchema,
  jobItemsSchema,
  jobListSchema,
  jobSchema,
  jobTypePatchBody,
  jobTypesSchema,
  listQuery,
  metricsQuery,
  metricsSchema,
  schedulePatchBody,
  scheduleInfoSchema,
  schedulesSchema,
  submitBody,
  explanationSchema,
} from './wire-schemas.js';

/** What a route's `run` gets: validated inputs and the actor's client. */
export interface RouteContext<Q, B> {
  client: JobClient;
  params: Record<string, string>;
  query: Q;
  body: B;
  request: Request;
}

/** One JSON (or event-stream) route. */
export interface RouteDef<Q = unknown, B = unknown> {
  method: 'get' | 'post' | 'patch';
  /** Hono-style path relative to `basePath`, e.g. `/jobs/:id`. */
  path: string;
  operationId: string;
  summary: string;
  /** Documented only: the client enforces it. */
  adminOnly?: boolean;
  query?: z.ZodType<Q, unknown>;
  body?: z.ZodType<B, unknown>;
  /** The body may be absent (cancel, retry). */
  bodyOptional?: boolean;
  response: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Errors this route documents besides 400/401/415/500. */
  errors?: number[];
  /** Returns the JSON body (sent with `response.status`), or a whole Response. */
  run(ctx: RouteContext<Q, B>): Promise<unknown>;
  /** Marks the event stream, which `create-jobs-handler` serves itself. */
  stream?: true;
}

// Keeps each route's Q and B inferred from its schemas while the table stays one array.
function route<Q = undefined, B = undefined>(def: RouteDef<Q, B>): RouteDef {
  return def as unknown as RouteDef;
}

const jobId = (ctx: { params: Record<string, string> }) => ctx.params.id ?? '';

/** Every route of the contract but the dashboard's (explain comes with its verb). */
export const ROUTES: readonly RouteDef[] = [
  route({
    method: 'post',
    path: '/jobs',
    operationId: 'submitJob',
    summary: 'Submit a job',
    body: submitBody,
    response: { status: 201, description: 'The new job', schema: jobSchema },
    errors: [403, 404, 409, 413],
    run: ({ client, body }) => client.submit(body.type, body.input, body.options),
  }),
  route({
    method: 'post',
    path: '/jobs/batch',
    operationId: 'submitJobs',
    summary: 'Submit several jobs, all or nothing',
    body: batchBody,
    response: { status: 201, description: 'The new jobs, in request order', schema: jobItemsSchema },
    errors: [403, 404, 409, 413],
    run: async ({ client, body }) => ({ items: await client.submitMany(body.jobs) }),
  }),
  route({
    method: 'get',
    path: '/jobs',
    operationId: 'listJobs',
    summary: 'List jobs, newest first',
    query: listQuery,
    response: { status: 200, description: 'One page of jobs', schema: jobListSchema },
    errors: [403],
    run: ({ client, query }) => client.list(query),
  }),
  route({
    method: 'get',
    path: '/jobs/:id',
    operationId: 'getJob',
    summary: 'Get a job',
    response: { status: 200, description: 'The job', schema: jobSchema },
    errors: [404],
    run: (ctx) => ctx.client.get(jobId(ctx)),
  }),
  route({
    method: 'get',
    path: '/jobs/:id/history',
    operationId: 'getJobHistory',
    summary: "A job's state transitions, oldest first",
    response: { status: 200, description: 'Every transition', schema: historySchema },
    errors: [404],
    run: async (ctx) => ({ items: await ctx.client.history(jobId(ctx)) }),
  }),
  route({
    method: 'get',
    path: '/jobs/:id/explain',
    operationId: 'explainJob',
    summary: 'Why a job is (not) running, with the detail that makes it actionable',
    response: { status: 200, description: 'The reason and its detail', schema: explanationSchema },
    errors: [404],
    run: (ctx) => ctx.client.explain(jobId(ctx)),
  }),
  route({
    method: 'post',
    path: '/jobs/:id/cancel',
    operationId: 'cancelJob',
    summary: 'Cancel a live job (its owner or an admin)',
    body: emptyBody,
    bodyOptional: true,
    response: { status: 200, description: 'The canceled job', schema: jobSchema },
    errors: [403, 404, 409],
    run: (ctx) => ctx.client.cancel(jobId(ctx)),
  }),
  route({
    method: 'post',
    path: '/jobs/:id/retry',
    operationId: 'retryJob',
    summary: 'Retry a dead_letter or canceled job',
    adminOnly: true,
    body: emptyBody,
    bodyOptional: true,
    response: { status: 200, description: 'The job, queued again', schema: jobSchema },
    errors: [403, 404, 409],
    run: (ctx) => ctx.client.retry(jobId(ctx)),
  }),
  route({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Counts, queue depth, processing times and failure rates',
    query: metricsQuery,
    response: { status: 200, description: 'Metrics of the actor’s org (admins: all orgs or orgId)', schema: metricsSchema },
    errors: [403],
    run: ({ client, query }) => client.metrics(query),
  }),
  route({
    method: 'get',
    path: '/metrics/prometheus',
    operationId: 'getPrometheusMetrics',
    summary: 'The metrics in the Prometheus text exposition format 0.0.4',
    adminOnly: true,
    response: { status: 200, description: 'Job counts, queue depth, oldest queued job, per-process attempt durations and failures', contentType: PROMETHEUS_CONTENT_TYPE },
    errors: [403],
    run: async ({ client }) =>
      new Response(await prometheusText(client), { status: 200, headers: { 'content-type': PROMETHEUS_CONTENT_TYPE } }),
  }),
  route({
    method: 'get',
    path: '/job-types',
    operationId: 'listJobTypes',
    summary: 'Job types and their settings in force',
    response: { status: 200, description: 'Every registered job type', schema: jobTypesSchema },
    run: async ({ client }) => ({ items: await client.jobTypes() }),
  }),
  route({
    method: 'patch',
    path: '/job-types/:name',
    operationId: 'updateJobType',
    summary: "Change a job type's runtime settings",
    adminOnly: true,
    body: jobTypePatchBody,
    response: { status: 200, description: 'The settings now in force', schema: jobTypesSchema.shape.items.element },
    errors: [403],
    run: ({ client, params, body }) => client.updateJobType(params.name ?? '', body),
  }),
  // ── schedules (issue 11) ──
  route({
    method: 'get',
    path: '/schedules',
    operationId: 'listSchedules',
    summary: 'Recurring schedules with their next and last run',
    adminOnly: true,
    response: { status: 200, description: 'Every schedule of the engine option schedules', schema: schedulesSchema },
    errors: [403],
    run: async ({ client }) => ({ items: await client.schedules() }),
  }),
  route({
    method: 'patch',
    path: '/schedules/:name',
    operationId: 'updateSchedule',
    summary: 'Enable or disable a schedule (audited)',
    adminOnly: true,
    body: schedulePatchBody,
    response: { status: 200, description: 'The schedule after the change', schema: scheduleInfoSchema },
    errors: [403],
    run: ({ client, params, body }) => client.updateSchedule(params.name ?? '', body),
  }),
  route({
    method: 'get',
    path: '/events',
    operationId: 'streamEvents',
    summary: 'Server-Sent Events: job:status and job:progress the actor may see',
    query: eventsQuery,
    response: {
      status: 200,
      description:
        'text/event-stream; each event has `id` (an opaque cursor), `event` (job:status or job:progress) and `data` (the event as JSON). ' +
        'Reconnect with Last-Event-ID to receive every missed status event and the last progress of each job, in order, without duplicates.',
      contentType: 'text/event-stream',
    },
    errors: [404],
    stream: true,
    run: () => Promise.reject(new Error('served by the event stream')),
  }),
];
