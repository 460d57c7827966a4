/**
 * The Prometheus text exposition (format 0.0.4) of one engine, served by
 * `GET /metrics/prometheus`. Gauges come from the store through `metrics()` (the whole store,
 * whichever process wrote it); the duration histogram and failure counter are this engine's
 * own counters (attempts run in this process, monotonic until it restarts). Job ids are never
 * labels; org labels only on request, for the busiest `maxOrgs` orgs, in `jobwing_org_*`
 * families of their own so the totals keep their meaning.
 */
import { z } from 'zod';
import type { JobClient } from '../client.js';
import { PermissionDeniedError, ValidationError } from '../errors.js';
import { INSTRUMENTATION, type Instrumentation } from '../instrumentation.js';
import { JOB_STATUSES, PRIORITIES } from '../states.js';
import type { Metrics } from '../types.js';
import { parseOrThrow } from '../validation.js';
import { DURATION_BUCKETS_SECONDS, type TypeCounters } from './attempt-counters.js';

/** `content-type` of the exposition. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4';

/** Options of {@link prometheusText}. */
export interface PrometheusTextOptions {
  /** Add `jobwing_org_*` families labelled by org. (Default: false) */
  orgLabels?: boolean;
  /** With `orgLabels`: at most this many orgs, the busiest seen by this engine. (Default: 20, at most 1000) */
  maxOrgs?: number;
}

const optionsSchema = z
  .object({
    orgLabels: z.boolean().optional(),
    maxOrgs: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

type Labels = Record<string, string>;

/** Escapes a label value: backslash, double quote and newline (format 0.0.4). */
function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function sample(name: string, labels: Labels, value: number): string {
  const keys = Object.keys(labels);
  const l = keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${labelValue(labels[k]!)}"`).join(',')}}`;
  return `${name}${l} ${formatNumber(value)}`;
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Accumulates families in output order. */
class Exposition {
  readonly #lines: string[] = [];

  family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): void {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
  }

  add(name: string, labels: Labels, value: number): void {
    this.#lines.push(sample(name, labels, value));
  }

  histogram(name: string, labels: Labels, c: TypeCounters | undefined): void {
    let cumulative = 0;
    DURATION_BUCKETS_SECONDS.forEach((le, i) => {
      cumulative += c?.buckets[i] ?? 0;
      this.add(`${name}_bucket`, { ...labels, le: String(le) }, cumulative);
    });
    this.add(`${name}_bucket`, { ...labels, le: '+Inf' }, c?.count ?? 0);
    this.add(`${name}_sum`, labels, c?.sumSeconds ?? 0);
    this.add(`${name}_count`, labels, c?.count ?? 0);
  }

  toString(): string {
    return this.#lines.join('\n') + '\n';
  }
}

/** The store gauges, one family after the other, for each row (the totals, or one per org). */
function storeGauges(out: Exposition, prefix: string, scope: string, rows: { labels: Labels; m: Metrics }[]): void {
  out.family(`${prefix}jobs`, 'gauge', `Jobs in the store by status${scope}.`);
  for (const { labels, m } of rows) for (const s of JOB_STATUSES) out.add(`${prefix}jobs`, { ...labels, status: s }, m.countsByStatus[s] ?? 0);
  out.family(`${prefix}queue_depth`, 'gauge', `Queued jobs (due, waiting for a worker) by priority${scope}.`);
  for (const { labels, m } of rows) for (const p of PRIORITIES) out.add(`${prefix}queue_depth`, { ...labels, priority: p }, m.queueDepthByPriority[p] ?? 0);
  out.family(`${prefix}oldest_queued_job_age_seconds`, 'gauge', `Age of the oldest queued job since it became due, 0 when none is queued${scope}.`);
  for (const { labels, m } of rows) out.add(`${prefix}oldest_queued_job_age_seconds`, labels, (m.oldestQueuedAgeMs ?? 0) / 1000);
}

/**
 * The Prometheus text exposition of the engine behind `client`.
 * @param client an admin client, e.g. `engine.system` or `engine.as(adminActor)`
 * @throws PermissionDeniedError for a non-admin client; ValidationError for bad options
 * @example
 * ```ts
 * const body = await prometheusText(engine.system);
 * res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(body);
 * ```
 */
export async function prometheusText(client: JobClient, options: PrometheusTextOptions = {}): Promise<string> {
  const slot = (client as unknown as Record<symbol, Instrumentation | undefined> | null)?.[INSTRUMENTATION];
  if (!slot || typeof client.metrics !== 'function') {
    throw new ValidationError('prometheusText needs a JobClient (engine.system or engine.as(actor))', [{ path: ['client'], message: 'expected a JobClient' }]);
  }
  if (!client.actor.admin) throw new PermissionDeniedError('The Prometheus metrics are for admins only');
  const o = parseOrThrow(optionsSchema, options, 'prometheusText options');
  const [m, types] = await Promise.all([client.metrics(), client.jobTypes()]);
  const counters = slot.counters;
  const typeNames = [...new Set([...types.map((t) => t.name), ...counters.byType.keys()])].sort();
  const out = new Exposition();

  storeGauges(out, 'jobwing_', ' (the whole store, every process)', [{ labels: {}, m }]);

  out.family('jobwing_job_duration_seconds', 'histogram', 'Duration of attempts that completed or failed, run by this process, by job type.');
  for (const type of typeNames) out.histogram('jobwing_job_duration_seconds', { type }, counters.byType.get(type));
  out.family('jobwing_job_failures_total', 'counter', 'Failed attempts (retried or dead-lettered) run by this process, by job type.');
  for (const type of typeNames) out.add('jobwing_job_failures_total', { type }, counters.byType.get(type)?.failures ?? 0);

  const orgs = o.orgLabels ? counters.topOrgs(o.maxOrgs ?? 20) : [];
  if (orgs.length > 0) {
    const perOrg = await Promise.all(orgs.map((orgId) => client.metrics({ orgId })));
    storeGauges(out, 'jobwing_org_', ', by org (the busiest orgs seen by this process)', orgs.map((org, i) => ({ labels: { org }, m: perOrg[i]! })));
    out.family('jobwing_org_job_failures_total', 'counter', 'Failed attempts run by this process, by org and job type (the busiest orgs).');
    for (const org of orgs) for (const type of typeNames) out.add('jobwing_org_job_failures_total', { org, type }, counters.byOrg.get(org)?.get(type)?.failures ?? 0);
  }
  return out.toString();
}
