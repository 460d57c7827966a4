/**
 * `client.explain(id)`: the reason a job is (not) running, with the detail that makes it
 * actionable. Read-only; built from the job, its history, the settings in force and the
 * running attempts of its type (the same counts the claim uses).
 */
import type { JobRegistry } from './registry.js';
import type { StorageAdapter } from './storage/adapter.js';
import type { Job } from './types.js';

/** Why a job is where it is. */
export type ExplainReason =
  | 'waiting_on_parent'
  | 'scheduled'
  | 'retry_backoff'
  | 'snoozed'
  | 'type_paused'
  | 'type_disabled'
  | 'concurrency_limit'
  | 'rate_limited'
  | 'no_worker_for_type'
  | 'ready'
  | 'running'
  | 'finished';

/** Result of `explain(id)`. */
export interface JobExplanation {
  jobId: string;
  status: Job['status'];
  reason: ExplainReason;
  /** One sentence naming the parent, the limit and its holders, the lease holder, or the next run time. */
  detail: string;
  /** When the job entered its current status. */
  since: Date;
}

/** What explain reads; `leaseMs` turns a lease expiry into the time of the last heartbeat. */
export interface ExplainContext {
  storage: StorageAdapter;
  registry: JobRegistry;
  leaseMs: number;
  /** True when this engine is a worker (it claims the types it implements). */
  worker: boolean;
  /** The engine clock (rate windows end now). */
  now(): number;
}

const HOLDERS_SHOWN = 5;
const iso = (d: Date | number) => new Date(d).toISOString();

/** Explains one job already loaded (and scoped) by the client. */
export async function explainJob(ctx: ExplainContext, job: Job): Promise<JobExplanation> {
  const history = await ctx.storage.listHistory({ jobId: job.id });
  const since = history.length > 0 ? history[history.length - 1]!.at : job.updatedAt;
  const out = (reason: ExplainReason, detail: string): JobExplanation => ({ jobId: job.id, status: job.status, reason, detail, since });
  switch (job.status) {
    case 'completed':
    case 'canceled':
    case 'dead_letter':
      return out('finished', `The job finished as ${job.status} at ${iso(job.completedAt ?? job.canceledAt ?? job.updatedAt)}; it will not run again unless an admin retries it.`);
    case 'waiting': {
      for (const parentId of job.dependsOn) {
        const parent = await ctx.storage.getJob({ id: parentId, orgId: job.orgId });
        if (parent && parent.status !== 'completed') return out('waiting_on_parent', `Waiting on parent job ${parentId}, which is ${parent.status}.`);
      }
      return out('waiting_on_parent', `Waiting on its parents (${job.dependsOn.join(', ')}) to complete.`);
    }
    case 'scheduled': {
      // A handler's SnoozeError ends the attempt running → scheduled; a submit with runAt starts here.
      const last = history[history.length - 1];
      if (last?.from === 'running') return out('snoozed', `Snoozed by its handler${last.message ? ` (${last.message})` : ''}; it runs again at ${iso(job.runAt)}, without using a retry.`);
      return out('scheduled', `Scheduled to run at ${iso(job.runAt)}.`);
    }
    case 'retrying':
      return out('retry_backoff', `Retry ${job.retryCount} of ${job.maxRetries} is due at ${iso(job.nextRetryAt ?? job.runAt)} (backoff after: ${job.error?.message ?? 'a failed attempt'}).`);
    case 'running': {
      const lease = await ctx.storage.getLease?.({ jobId: job.id });
      const start = [...history].reverse().find((h) => h.to === 'running');
      const holder = lease?.owner ?? start?.actorId.replace(/^engine:/, '') ?? 'an unknown worker';
      const beat = lease?.expiresAt != null ? ` last heartbeat at ${iso(lease.expiresAt - ctx.leaseMs)} (lease until ${iso(lease.expiresAt)})` : '';
      return out('running', `Running attempt ${start?.attempt ?? '?'} on worker ${holder} since ${iso(job.startedAt ?? since)};${beat || ' no lease read'}.`);
    }
    case 'queued':
      return explainQueued(ctx, job, out);
  }
}

async function explainQueued(ctx: ExplainContext, job: Job, out: (r: ExplainReason, d: string) => JobExplanation): Promise<JobExplanation> {
  const info = ctx.registry.has(job.type) ? ctx.registry.info(job.type) : null;
  if (info?.paused) return out('type_paused', `Job type "${job.type}" is paused; it is claimed once an admin resumes it (updateJobType(..., { paused: false })).`);
  const running = async (orgId: string | null) => {
    const page = await ctx.storage.listJobs({ orgId, statuses: ['running'], types: [job.type], ownerId: null, createdAfter: null, createdBefore: null, limit: 500, cursor: null });
    return page.items;
  };
  const holders = (jobs: Job[]) => jobs.slice(0, HOLDERS_SHOWN).map((j) => j.id).join(', ') + (jobs.length > HOLDERS_SHOWN ? ` and ${jobs.length - HOLDERS_SHOWN} more` : '');
  if (info?.concurrency != null) {
    const all = await running(null);
    if (all.length >= info.concurrency) {
      return out('concurrency_limit', `Job type "${job.type}" is at its concurrency limit of ${info.concurrency}: held by ${holders(all)}.`);
    }
  }
  if (info?.concurrencyPerOrg != null) {
    const mine = await running(job.orgId);
    if (mine.length >= info.concurrencyPerOrg) {
      return out('concurrency_limit', `Org "${job.orgId}" is at the concurrencyPerOrg limit of ${info.concurrencyPerOrg} for "${job.type}": held by ${holders(mine)}.`);
    }
  }
  if (info?.rateLimit && ctx.storage.getRateWindow) {
    const { max, perMs, scope } = info.rateLimit;
    const now = ctx.now();
    const w = await ctx.storage.getRateWindow({ type: job.type, orgId: scope === 'org' ? job.orgId : null, since: now - perMs + 1 });
    if (w.starts >= max && w.oldest !== null) {
      const who = scope === 'org' ? `org "${job.orgId}" of "${job.type}"` : `"${job.type}"`;
      return out('rate_limited', `The rate limit of ${who} (${max} starts per ${perMs} ms) is used up: ${w.starts} started in the window; it resets at ${iso(w.oldest + perMs)}.`);
    }
  }
  const here = ctx.worker && ctx.registry.implementedNames().includes(job.type);
  if (!here && (await running(null)).length === 0) {
    return out('no_worker_for_type', `No worker seen for "${job.type}": this engine does not run it and no job of the type is running on the store; start a worker that implements it.`);
  }
  const due = `priority ${job.priority}, due since ${iso(job.runAt)}`;
  // `enabled: false` refuses new submits only; the claim still takes jobs already accepted,
  // so a disabled type is named only when nothing else holds the job, and never as a blocker.
  if (info && !info.enabled) {
    return out('type_disabled', `Job type "${job.type}" is disabled, which only refuses new submits: this job was accepted before and still runs, claimed by the next free worker slot (${due}); updateJobType(..., { enabled: true }) accepts new submits again.`);
  }
  return out('ready', `Ready: the next free worker slot claims it (${due}).`);
}
