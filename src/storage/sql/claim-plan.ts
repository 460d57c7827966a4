/**
 * Which queued jobs a claim takes when flow control is in force (limits, pause, fairness):
 * the rule lives here once; a store supplies indexed lookups ({@link ClaimReader}) and runs
 * the plan inside its claim transaction, after serializing claims of limited types.
 *
 * Order with fairness 'org' (the exact rule, documented in docs/concepts.md):
 * 1. priority levels in rank order (critical first); a level is served until it has no
 *    claimable job left, then the next;
 * 2. within a level, orgs take turns in org id order, starting after the org served last at
 *    that level (a cursor kept per store instance) and wrapping around; each turn gives one
 *    job, the org's oldest claimable one (runAt, then submission order) across the types;
 * 3. when every org has had its turn and slots are left, another round starts.
 * With fairness 'none': claim order (priority, runAt, seq), skipping held-back jobs.
 * Held back (skipped, left `queued`): paused types, types at `concurrency` or at their rate
 * limit (scope 'type'), (type, org) pairs at `concurrencyPerOrg` or their rate limit (scope
 * 'org'). Starts are counted over the window ending at the claim's `now`, from the start log
 * ({@link startsToLog}): one entry per claim of a rate-limited type, so a job that starts
 * twice inside a window (a fast retry) counts twice.
 */
import type { ClaimedJob, ClaimJobsRequest, ClaimTypeLimits } from '../adapter.js';

/** A queued job as the plan sees it. */
export interface Candidate {
  seq: number;
  type: string;
  orgId: string;
  priorityRank: number;
  runAt: number;
}

/**
 * Indexed lookups a store provides. Every one MUST be an index seek or a bounded range. The
 * plan is a generator that yields these lookups, so a synchronous store (SQLite) answers them
 * inside its transaction and an asynchronous one (Postgres) awaits them: one rule, two drivers.
 */
export interface ClaimReader {
  /** Jobs of `type` (of `orgId` when given) whose latest attempt started at or after `since`. */
  countStarts(type: string, orgId: string | null, since: number): number;
  /** Running attempts of `type` (of `orgId` when given), from the jobs table. */
  countRunning(type: string, orgId: string | null): number;
  /**
   * Up to `limit` org ids, ascending, each > `after` (all when `after` is null), that have a
   * queued job of `type` at `priorityRank`: a skip scan, one seek per org.
   */
  nextOrgs(type: string, priorityRank: number, after: string | null, limit: number): string[];
  /**
   * For each read, up to `read.limit` queued jobs of (type, rank, read.orgId) after (runAt, seq)
   * `read.after`, in (runAt, seq) order: one answer per read, in order. Batched so that a
   * store across a network answers a claim round's reads of every org in one round trip.
   */
  orgJobs(type: string, priorityRank: number, reads: readonly OrgRead[]): Candidate[][];
  /** Up to `limit` queued jobs of `types` after `after` in claim order (priority, runAt, seq). */
  claimOrder(types: readonly string[], after: Candidate | null, limit: number): Candidate[];
  /** The smallest priority rank > `afterRank` with a queued job of `types`, or null. */
  firstLevel(types: readonly string[], afterRank: number): number | null;
  /** True when queued jobs of more than one org exist (a cheap pair of seeks). */
  severalOrgsQueued(): boolean;
}

/** One org's read of {@link ClaimReader.orgJobs}. */
export interface OrgRead {
  orgId: string;
  after: { runAt: number; seq: number } | null;
  limit: number;
}

/** An asynchronous {@link ClaimReader}. */
export type AsyncClaimReader = { [K in keyof ClaimReader]: (...args: Parameters<ClaimReader[K]>) => Promise<ReturnType<ClaimReader[K]>> };

type Lookup = { [K in keyof ClaimReader]: { op: K; args: Parameters<ClaimReader[K]> } }[keyof ClaimReader];
type Plan<R> = Generator<Lookup, R, unknown>;

/** One lookup, as a step of the plan. */
function* ask<K extends keyof ClaimReader>(op: K, ...args: Parameters<ClaimReader[K]>): Plan<ReturnType<ClaimReader[K]>> {
  return (yield { op, args } as Lookup) as ReturnType<ClaimReader[K]>;
}

/** Runs the plan against a synchronous reader. */
export function planClaimSync(reader: ClaimReader, req: ClaimJobsRequest, cursor: FairnessCursor): ClaimPlan {
  const g = planClaim(req, cursor);
  for (let step = g.next(); ; ) {
    if (step.done) return step.value;
    const { op, args } = step.value;
    step = g.next((reader[op] as (...a: unknown[]) => unknown)(...args));
  }
}

/** Runs the plan against an asynchronous reader. */
export async function planClaimAsync(reader: AsyncClaimReader, req: ClaimJobsRequest, cursor: FairnessCursor): Promise<ClaimPlan> {
  const g = planClaim(req, cursor);
  for (let step = g.next(); ; ) {
    if (step.done) return step.value;
    const { op, args } = step.value;
    step = g.next(await (reader[op] as (...a: unknown[]) => Promise<unknown>)(...args));
  }
}

/** Rows a claim with fairness 'none' looks at past the head when per-org caps skip jobs. */
export const FIFO_SCAN_BOUND = 2_000;
/** Orgs visited per priority level and claim (bounds the work when most orgs are capped). */
export const ORG_VISIT_BOUND = 512;

/** Per-store state of the fairness rotation: the org served last, per priority rank. */
export type FairnessCursor = Map<number, string>;

/** The plan: claim by the normal fast path over `types`, or exactly these `seqs`, or nothing. */
export type ClaimPlan = { kind: 'fast'; types: readonly string[] } | { kind: 'seqs'; seqs: number[] } | { kind: 'none' };

/** True when the request carries anything that can change what the plain claim would take. */
export function needsPlan(req: ClaimJobsRequest): boolean {
  return (req.limits !== undefined && req.limits.length > 0) || req.fairness === 'org';
}

/** Computes which jobs to claim. Call inside the claim transaction (counts must be current). */
function* planClaim(req: ClaimJobsRequest, cursor: FairnessCursor): Plan<ClaimPlan> {
  const byType = new Map<string, ClaimTypeLimits>((req.limits ?? []).map((l) => [l.type, l]));
  const slots = new Map<string, number>(); // remaining slots of capped types
  const orgCaps = new Map<string, number>(); // types with a per-org cap or rate limit
  const types: string[] = [];
  for (const t of req.types) {
    const l = byType.get(t);
    if (l?.paused) continue;
    let free = Infinity;
    if (l?.concurrency != null) free = l.concurrency - (yield* ask('countRunning', t, null));
    if (l?.rateLimit && l.rateLimit.scope === 'type' && free > 0) {
      free = Math.min(free, l.rateLimit.max - (yield* ask('countStarts', t, null, req.now - l.rateLimit.perMs + 1)));
    }
    if (free <= 0) continue;
    if (free !== Infinity) slots.set(t, free);
    if (l?.concurrencyPerOrg != null || l?.rateLimit?.scope === 'org') orgCaps.set(t, 0);
    types.push(t);
  }
  if (types.length === 0) return { kind: 'none' };
  const uncapped = orgCaps.size === 0 && [...slots.values()].every((n) => n >= req.limit);
  if (uncapped && (req.fairness !== 'org' || !(yield* ask('severalOrgsQueued')))) return { kind: 'fast', types };

  const orgFree = new Map<string, number>(); // remaining slots of (type, org) pairs under a cap
  const allowed = function* (c: { type: string; orgId: string }): Plan<boolean> {
    if ((slots.get(c.type) ?? 1) <= 0) return false;
    if (!orgCaps.has(c.type)) return true;
    const key = `${c.type}\u0000${c.orgId}`;
    let free = orgFree.get(key);
    if (free === undefined) {
      const l = byType.get(c.type)!;
      free = Infinity;
      if (l.concurrencyPerOrg != null) free = l.concurrencyPerOrg - (yield* ask('countRunning', c.type, c.orgId));
      if (l.rateLimit?.scope === 'org' && free > 0) free = Math.min(free, l.rateLimit.max - (yield* ask('countStarts', c.type, c.orgId, req.now - l.rateLimit.perMs + 1)));
      orgFree.set(key, free);
    }
    return free > 0;
  };
  const take = (c: Candidate, seqs: number[]): void => {
    seqs.push(c.seq);
    const s = slots.get(c.type);
    if (s !== undefined) slots.set(c.type, s - 1);
    const key = `${c.type}\u0000${c.orgId}`;
    const f = orgFree.get(key);
    if (f !== undefined) orgFree.set(key, f - 1);
  };
  const seqs: number[] = [];
  if (req.fairness === 'org') yield* planFair(req, types, cursor, allowed, take, seqs);
  else yield* planFifo(req, types, allowed, take, seqs);
  return seqs.length === 0 ? { kind: 'none' } : { kind: 'seqs', seqs };
}

type Allowed = (c: { type: string; orgId: string }) => Plan<boolean>;
type Take = (c: Candidate, seqs: number[]) => void;

/** Claim order, skipping held-back jobs, looking at most FIFO_SCAN_BOUND rows. */
function* planFifo(req: ClaimJobsRequest, types: string[], allowed: Allowed, take: Take, seqs: number[]): Plan<void> {
  let after: Candidate | null = null;
  let scanned = 0;
  while (seqs.length < req.limit && scanned < FIFO_SCAN_BOUND) {
    const page: Candidate[] = yield* ask('claimOrder', types, after, Math.min(256, Math.max(req.limit * 2, 16)));
    if (page.length === 0) return;
    for (const c of page) {
      scanned++;
      if (yield* allowed(c)) take(c, seqs);
      if (seqs.length >= req.limit) return;
    }
    after = page[page.length - 1]!;
  }
}

/** One org's claimable jobs at one level, merged across types in (runAt, seq) order, read ahead in batches. */
class OrgStream {
  /** Per type: rows read and not yet taken, whether the org has no more, and the last row read. */
  readonly #buffers = new Map<string, { rows: Candidate[]; done: boolean; last: OrgRead['after'] }>();
  constructor(
    readonly orgId: string,
    private readonly types: readonly string[],
    /** Rows of the first read per type; each further read doubles it, up to ORG_READ_MAX. */
    private batch: number,
  ) {}

  /** The read this org needs for `type` before its next turn, or null (rows buffered, or none left). */
  readFor(type: string): OrgRead | null {
    const b = this.#buffers.get(type);
    if (b && (b.rows.length > 0 || b.done)) return null;
    return { orgId: this.orgId, after: b?.last ?? null, limit: this.batch };
  }

  /** Stores the answer to {@link readFor}'s read. */
  fill(type: string, read: OrgRead, rows: Candidate[]): void {
    const last = rows[rows.length - 1];
    this.#buffers.set(type, { rows, done: rows.length < read.limit, last: last ? { runAt: last.runAt, seq: last.seq } : read.after });
    this.batch = Math.min(read.limit * 2, ORG_READ_MAX);
  }

  /** The org's next claimable job among the rows read, or null. Call after {@link fillStreams}. */
  *next(allowed: Allowed): Plan<Candidate | null> {
    let best: Candidate | null = null;
    for (const t of this.types) {
      if (!(yield* allowed({ type: t, orgId: this.orgId }))) continue;
      const head = this.#buffers.get(t)?.rows[0];
      if (head && (!best || head.runAt < best.runAt || (head.runAt === best.runAt && head.seq < best.seq))) best = head;
    }
    if (best) this.#buffers.get(best.type)!.rows.shift();
    return best;
  }
}

/**
 * Reads what every stream needs for its next turn: per type, one batched read for all the
 * streams whose rows of that type ran out (types they may not take now are not read).
 */
function* fillStreams(streams: readonly OrgStream[], types: readonly string[], rank: number, allowed: Allowed): Plan<void> {
  for (const t of types) {
    const reads: { s: OrgStream; read: OrgRead }[] = [];
    for (const s of streams) {
      const read = s.readFor(t);
      if (read && (yield* allowed({ type: t, orgId: s.orgId }))) reads.push({ s, read });
    }
    if (reads.length === 0) continue;
    const answers = yield* ask('orgJobs', t, rank, reads.map((r) => r.read));
    reads.forEach((r, i) => r.s.fill(t, r.read, answers[i] ?? []));
  }
}

/** Orgs with queued jobs of `types` at `rank`, in turn order: after `after`, then wrapping around. */
class OrgTurns {
  readonly #seen = new Set<string>();
  #pass = 0;
  /** Per type: org ids read ahead (ascending), and whether the type has no more in this pass. */
  #heads: Map<string, { orgs: string[]; done: boolean; last: string | null }> | null = null;
  constructor(
    private readonly types: readonly string[],
    private readonly rank: number,
    private readonly after: string | null,
  ) {}

  /** Up to `n` orgs in turn order (fewer only when every org had its turn). */
  *next(n: number): Plan<string[]> {
    const out: string[] = [];
    while (out.length < n) {
      const org = yield* this.#one(n - out.length);
      if (org === null) break;
      out.push(org);
    }
    return out;
  }

  /** The next org in turn, reading up to `ahead` org ids per type when a type's list runs out. */
  *#one(ahead: number): Plan<string | null> {
    for (;;) {
      if (this.#heads === null) {
        this.#heads = new Map(this.types.map((t) => [t, { orgs: [], done: false, last: this.#pass === 0 ? this.after : null }]));
      }
      let min: string | null = null;
      for (const [type, h] of this.#heads) {
        if (h.orgs.length === 0 && !h.done) {
          const limit = orgBatch(ahead);
          h.orgs = yield* ask('nextOrgs', type, this.rank, h.last, limit);
          h.done = h.orgs.length < limit;
          if (h.orgs.length > 0) h.last = h.orgs[h.orgs.length - 1]!;
        }
        const head = h.orgs[0];
        if (head !== undefined && (min === null || head < min)) min = head;
      }
      const wrapped = min !== null && this.#pass === 1 && this.after !== null && min > this.after;
      if (min === null || wrapped) {
        // Pass 0 ended: wrap round to the start (unless there is no cursor: one pass was all).
        if (this.#pass === 1 || this.after === null) return null;
        this.#pass = 1;
        this.#heads = null;
        continue;
      }
      for (const h of this.#heads.values()) if (h.orgs[0] === min) h.orgs.shift();
      if (this.#seen.has(min)) continue;
      this.#seen.add(min);
      return min;
    }
  }
}

/** Org ids one walk of the orgs reads ahead, for `wanted` more orgs (at least 4, at most ORG_READ_MAX). */
function orgBatch(wanted: number): number {
  return Math.max(4, Math.min(wanted, ORG_READ_MAX));
}

/** Most rows one org read asks for. */
const ORG_READ_MAX = 64;

/**
 * Rows of an org's first read: a quarter of the claim (at least 4). With many orgs each gives
 * a few jobs, so reading `limit` rows per org read mostly rows nobody takes (10 orgs, limit 32:
 * 320 rows for 32 jobs); an org with more to give reads again, twice as many each time.
 */
function firstOrgRead(limit: number): number {
  return Math.min(Math.max(4, Math.ceil(limit / 4)), ORG_READ_MAX);
}

/** Round-robin over orgs within each priority level; see the module comment. */
function* planFair(req: ClaimJobsRequest, types: string[], cursor: FairnessCursor, allowed: Allowed, take: Take, seqs: number[]): Plan<void> {
  for (let rank = yield* ask('firstLevel', types, -1); rank !== null; rank = seqs.length < req.limit ? yield* ask('firstLevel', types, rank) : null) {
    const streams: OrgStream[] = [];
    let visited = 0;
    let lastServed: string | undefined;
    // Round 1: one job from each org in turn order, discovering orgs a batch at a time (as
    // many as there are slots left: each may give one job).
    const turns = new OrgTurns(types, rank, cursor.get(rank) ?? null);
    round1: while (seqs.length < req.limit && visited < ORG_VISIT_BOUND) {
      const orgs = yield* turns.next(Math.min(req.limit - seqs.length, ORG_VISIT_BOUND - visited));
      if (orgs.length === 0) break;
      visited += orgs.length;
      const batch = orgs.map((org) => new OrgStream(org, types, firstOrgRead(req.limit)));
      yield* fillStreams(batch, types, rank, allowed);
      for (const s of batch) {
        if (seqs.length >= req.limit) break round1;
        const c = yield* s.next(allowed);
        if (!c) continue;
        take(c, seqs);
        lastServed = s.orgId;
        streams.push(s);
      }
    }
    // Further rounds over the orgs that still had jobs, until the slots are full.
    let live = streams;
    while (seqs.length < req.limit && live.length > 0) {
      yield* fillStreams(live, types, rank, allowed);
      const still: OrgStream[] = [];
      for (const s of live) {
        if (seqs.length >= req.limit) break;
        const c = yield* s.next(allowed);
        if (!c) continue;
        take(c, seqs);
        lastServed = s.orgId;
        still.push(s);
      }
      live = still;
    }
    if (lastServed !== undefined) cursor.set(rank, lastServed);
  }
}

/** What a claim writes to the start log, inside its transaction. */
export interface StartLogWrite {
  /** One entry per claimed job of a rate-limited type, at the claim's `now`. */
  entries: { type: string; orgId: string; at: number }[];
  /**
   * Per rate-limited type claimed: entries older than this go. Two windows back, not one: a
   * process whose clock runs a little behind still sees every start of its window.
   */
  prune: { type: string; before: number }[];
}

/**
 * The start log entries of a claim (the log rate limits count, see the module comment). Only
 * types with a rate limit are logged, so unlimited types pay nothing; the log of a type is
 * trimmed each time it grows, so it holds about `2 × max` entries per type (or type and org).
 */
export function startsToLog(req: ClaimJobsRequest, claimed: readonly ClaimedJob[]): StartLogWrite | null {
  if (claimed.length === 0 || req.limits === undefined) return null;
  const windows = new Map<string, number>();
  for (const l of req.limits) if (l.rateLimit) windows.set(l.type, l.rateLimit.perMs);
  if (windows.size === 0) return null;
  const entries = claimed.filter((c) => windows.has(c.job.type)).map((c) => ({ type: c.job.type, orgId: c.job.orgId, at: req.now }));
  if (entries.length === 0) return null;
  const prune = [...new Set(entries.map((e) => e.type))].map((type) => ({ type, before: req.now - 2 * windows.get(type)! }));
  return { entries, prune };
}
