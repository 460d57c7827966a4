/**
 * The invariant checks: every acknowledged job present and terminal; one exit from `running`
 * per attempt and at most one terminal transition; no attempt run twice; more than one
 * successful effect only where history shows a rescue (`worker_lost`); children never ahead of
 * their parents; plus what the lease sampler found.
 */
import type { Job, JobHistoryEntry } from '../../../src/index.js';
import type { Cluster } from './cluster.js';
import type { EffectIndex } from './effects.js';
import { TERMINAL } from './store.js';

/** One broken rule. */
export interface Violation {
  rule: string;
  jobId?: string;
  detail: string;
}

/** What {@link checkInvariants} checks. */
export interface CheckOptions {
  /** Jobs to check in depth (Default: every job in the store). */
  jobIds?: Iterable<string>;
  /** Require every job in the store to be terminal. (Default: true) */
  allTerminal?: boolean;
}

/**
 * Checks the invariants over the store and the effect logs of `c` (plus the lease sampler's
 * findings). Returns every violation; an empty list means all hold.
 */
export async function checkInvariants(c: Cluster, o: CheckOptions = {}): Promise<Violation[]> {
  c.refreshEffects();
  await c.sampleLeases();
  const v: Violation[] = [...c.violations];
  const jobs = new Map((await c.allJobs()).map((j) => [j.id, j]));
  for (const id of c.acked) if (!jobs.has(id)) v.push({ rule: 'acknowledged-job-missing', jobId: id, detail: 'submit resolved, but the job is not in the store' });
  if (o.allTerminal !== false) {
    for (const j of jobs.values()) if (!TERMINAL.includes(j.status)) v.push({ rule: 'not-terminal', jobId: j.id, detail: `status ${j.status}` });
  }
  const ids = o.jobIds ? [...o.jobIds] : [...jobs.keys()];
  const histories = new Map<string, JobHistoryEntry[]>();
  for (const id of ids) {
    const job = jobs.get(id);
    if (!job) continue;
    const h = await c.history(id);
    histories.set(id, h);
    v.push(...checkJob(job, h, c.effects));
  }
  // Dependencies: a child's handler never started before a parent's handler had succeeded
  // (real time of the effects; the store's own order is covered by the history chain:
  // a waiting child must pass waiting → queued, written with the parent's completion).
  for (const id of ids) {
    const job = jobs.get(id);
    if (!job || job.dependsOn.length === 0) continue;
    const firstStart = c.effects.of(id, 'start')[0];
    for (const parentId of job.dependsOn) {
      const parent = jobs.get(parentId);
      const ph = histories.get(parentId) ?? (parent ? await c.history(parentId) : []);
      const done = ph.find((e) => e.to === 'completed');
      const parentEnd = done ? c.effects.of(parentId, 'end').find((e) => e.attempt === done.attempt) : undefined;
      if (firstStart && (!parentEnd || firstStart.t < parentEnd.t)) {
        v.push({ rule: 'child-ran-before-parent-completed', jobId: id, detail: `child started at ${new Date(firstStart.t).toISOString()}, parent ${parentId} ${parentEnd ? `succeeded at ${new Date(parentEnd.t).toISOString()}` : `is ${parent?.status ?? 'missing'}`}` });
      }
      if (job.status === 'completed' && parent && parent.status !== 'completed') v.push({ rule: 'child-completed-parent-not', jobId: id, detail: `parent ${parentId} is ${parent.status}` });
    }
  }
  return v;
}

/** The per-job rules: history shape, attempts, effects. */
export function checkJob(job: Job, h: JobHistoryEntry[], effects: EffectIndex): Violation[] {
  const v: Violation[] = [];
  const id = job.id;
  const add = (rule: string, detail: string) => v.push({ rule, jobId: id, detail });
  const show = () => h.map((e) => `${e.from ?? 'null'}→${e.to}#${e.attempt}${e.error ? `(${e.error.type})` : ''}`).join(' ');
  if (h.length === 0) return [{ rule: 'no-history', jobId: id, detail: 'a job without its creation entry' }];
  // Exactly-once transitions: every entry leaves the state the previous one entered.
  if (h[0]!.from !== null) add('history-chain', `first entry is not the creation: ${show()}`);
  for (let i = 1; i < h.length; i++) if (h[i]!.from !== h[i - 1]!.to) add('history-chain', `entry ${i} leaves ${h[i]!.from}, but the job was ${h[i - 1]!.to}: ${show()}`);
  if (h[h.length - 1]!.to !== job.status) add('history-status', `last entry → ${h[h.length - 1]!.to}, job is ${job.status}: ${show()}`);
  // Attempts: claims are numbered 1..N; each ended attempt leaves running exactly once.
  const claims = h.filter((e) => e.to === 'running').map((e) => e.attempt);
  claims.forEach((a, i) => {
    if (a !== i + 1) add('claim-attempts', `claims numbered ${claims.join(',')}: ${show()}`);
  });
  for (const a of new Set(claims)) {
    const exits = h.filter((e) => e.from === 'running' && e.attempt === a).length;
    const stillRunning = job.status === 'running' && a === claims[claims.length - 1];
    if (exits !== (stillRunning ? 0 : 1)) add('one-exit-per-attempt', `attempt ${a} left running ${exits} times: ${show()}`);
  }
  const terminalEntries = h.filter((e) => TERMINAL.includes(e.to));
  if (terminalEntries.length > 1) add('two-terminal-transitions', show());
  // Effects: an attempt runs at most once, and only after its claim.
  const starts = effects.of(id, 'start');
  const startsByAttempt = new Map<number, number>();
  for (const s of starts) startsByAttempt.set(s.attempt!, (startsByAttempt.get(s.attempt!) ?? 0) + 1);
  for (const [a, n] of startsByAttempt) {
    if (n > 1) add('attempt-ran-twice', `attempt ${a} started ${n} times (pids ${starts.filter((s) => s.attempt === a).map((s) => s.pid).join(',')})`);
    if (!claims.includes(a)) add('run-without-claim', `attempt ${a} ran but history has no claim for it: ${show()}`);
  }
  // More than one successful effect only where history shows a rescue.
  const ends = effects.of(id, 'end');
  const rescues = h.filter((e) => e.error?.type === 'worker_lost').length;
  if (ends.length > 1 + rescues) add('extra-successful-effects', `${ends.length} successful effects (attempts ${ends.map((e) => e.attempt).join(',')}), ${rescues} worker_lost rescue(s): ${show()}`);
  if (job.status === 'completed') {
    const done = h.find((e) => e.to === 'completed');
    if (done && !ends.some((e) => e.attempt === done.attempt)) add('completed-without-effect', `completed by attempt ${done.attempt}, which recorded no successful effect`);
    const out = job.output as { by?: string; attempt?: number } | null;
    if (done && out && typeof out === 'object' && 'attempt' in out) {
      if (out.attempt !== done.attempt) add('output-of-stale-attempt', `output from attempt ${out.attempt}, completion recorded for attempt ${done.attempt}`);
      if (done.actorId !== `engine:${out.by}`) add('output-of-other-worker', `output by ${out.by}, completion recorded by ${done.actorId}`);
    }
  }
  return v;
}

/** A readable list of violations, led by the seed. */
export function formatViolations(v: Violation[], seed: number): string {
  const lines = v.slice(0, 30).map((x) => `  - ${x.rule}${x.jobId ? ` [${x.jobId}]` : ''}: ${x.detail}`);
  return `${v.length} invariant violation(s) (JOBWING_FAULT_SEED=${seed}):\n${lines.join('\n')}${v.length > 30 ? `\n  … and ${v.length - 30} more` : ''}`;
}
