/**
 * The machinery of the kit. Checks are declared once, in the group files, with a vitest-like
 * `describe` / `it` / `must`, into a tree; the tree is then either registered with vitest
 * ({@link describeStorageConformance} in index.ts) or run check by check without a test
 * framework ({@link runConformanceChecks}), which is how a test proves that a broken store
 * fails them.
 *
 * Why a tree and not plain vitest calls: a check registered straight with vitest can only be
 * run by vitest, and its failure can only be seen as a red test. A check that is data can be
 * run against a deliberately broken store, and its failure asserted.
 *
 * The helpers (`add`, `claim`, `settle`, …) and `store` act on the store of the check that is
 * running: each check gets a fresh, migrated store from the factory, closed after it. Checks
 * run one at a time, as vitest runs the tests of one file.
 */
import type { JobStatus } from '../../states.js';
import type { Job } from '../../types.js';
import type {
  AttemptOutcome,
  ClaimedJob,
  InsertOutcome,
  NewJob,
  SettleOutcome,
  StorageAdapter,
  StorageCapabilities,
} from '../../storage/adapter.js';
import { completedOutcome, failedOutcome, LEASE_MS, newJob, PROMOTE_DUE, T0 } from './fixtures.js';

/** How the kit gets stores. The shape API.md pins is `{ name, create, destroy? }`. */
export interface StorageConformanceOptions {
  /** Names the suite in test output: `storage conformance: <name>`. */
  name: string;
  /** A fresh, empty store (the kit calls `migrate()` on it). */
  create(): Promise<StorageAdapter>;
  /** Cleans up after a check (the kit has already called `close()`). */
  destroy?(store: StorageAdapter): Promise<void>;
  /**
   * Another adapter on the same database (another connection or process), for the
   * cross-process checks (dedup, claims, events, leadership, push wake-ups). Only for
   * multi-process stores; those checks are skipped, saying so, without it. The kit closes it.
   */
  connectPeer?(store: StorageAdapter): Promise<StorageAdapter>;
  /** The capabilities the store must report; when given, a check compares them. */
  capabilities?: StorageCapabilities;
}

/** What a check receives, like vitest's test context. */
export interface CheckContext {
  /** Ends the check as skipped, with the reason. */
  skip(note?: string): never;
}

type CheckFn = (ctx: CheckContext) => unknown;

/** One check of the kit, runnable on its own. */
export interface ConformanceCheck {
  /** The groups it sits in, outermost first (method, then the MUST it checks). */
  readonly path: readonly string[];
  readonly title: string;
  /** `path` and `title` joined with ' > ', as vitest prints it. */
  readonly fullTitle: string;
  readonly fn: CheckFn;
  /** Skip when the store's capabilities make the check inapplicable. */
  readonly skipWhen?: { when: (caps: StorageCapabilities) => boolean; note: string };
}

/** A group of checks, as `describe` makes it. */
export interface CheckGroup {
  readonly title: string;
  readonly children: (CheckGroup | ConformanceCheck)[];
}

/** The kit's `it`: vitest's shape, so a check reads like (and moves like) a vitest test. */
export interface CheckIt {
  (title: string, fn: CheckFn): void;
  /** One check per value; `%s` in the title is replaced by the value. */
  each<const V>(values: readonly V[]): (title: string, fn: (value: V) => unknown) => void;
  /** Skipped (with `note`) on stores whose capabilities make it inapplicable. */
  skipIf(when: (caps: StorageCapabilities) => boolean, note: string): (title: string, fn: CheckFn) => void;
}

/** Thrown by `skip()` outside vitest. */
class CheckSkipped extends Error {}

/** A store kind's checks, with the helpers they share. */
export class ConformanceSuite {
  readonly root: CheckGroup = { title: '', children: [] };
  readonly #stack: CheckGroup[] = [this.root];
  #current: StorageAdapter | null = null;
  readonly #peers: StorageAdapter[] = [];

  constructor(readonly options: StorageConformanceOptions) {}

  /** The store of the running check (a forwarding view, valid while a check runs). */
  readonly store: StorageAdapter = new Proxy({} as StorageAdapter, {
    get: (_t, key) => {
      const s = this.#store();
      const v: unknown = Reflect.get(s, key, s);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(s) : v;
    },
    has: (_t, key) => Reflect.has(this.#store(), key),
  });

  #store(): StorageAdapter {
    if (this.#current === null) throw new Error('conformance: `store` used outside a running check');
    return this.#current;
  }

  // ── declaring checks ─────────────────────────────────────────────────────────
  readonly describe = (title: string, body: () => void): void => {
    const group: CheckGroup = { title, children: [] };
    this.#top().children.push(group);
    this.#stack.push(group);
    try {
      body();
    } finally {
      this.#stack.pop();
    }
  };

  /** A group of checks of one MUST; its title quotes the MUST (from src/storage/adapter.ts). */
  readonly must = (quote: string, body: () => void): void => this.describe(`MUST: ${quote}`, body);

  readonly it: CheckIt = Object.assign((title: string, fn: CheckFn) => this.#add(title, fn), {
    each:
      <V>(values: readonly V[]) =>
      (title: string, fn: (value: V) => unknown) => {
        for (const v of values) this.#add(title.replace('%s', String(v)), () => fn(v));
      },
    skipIf: (when: (caps: StorageCapabilities) => boolean, note: string) => (title: string, fn: CheckFn) => this.#add(title, fn, { when, note }),
  });

  #top(): CheckGroup {
    return this.#stack[this.#stack.length - 1]!;
  }

  #add(title: string, fn: CheckFn, skipWhen?: ConformanceCheck['skipWhen']): void {
    const path = this.#stack.slice(1).map((g) => g.title);
    this.#top().children.push({ path, title, fullTitle: [...path, title].join(' > '), fn, ...(skipWhen ? { skipWhen } : {}) });
  }

  /** Every check, in declaration order. */
  checks(): ConformanceCheck[] {
    const out: ConformanceCheck[] = [];
    const walk = (g: CheckGroup) => {
      for (const c of g.children) 'children' in c ? walk(c) : out.push(c);
    };
    walk(this.root);
    return out;
  }

  // ── running a check ──────────────────────────────────────────────────────────
  /** Runs one check on a fresh store; `skip` ends it as skipped (vitest's, or the kit's own). */
  async run(check: ConformanceCheck, skip: (note?: string) => never): Promise<void> {
    const store = await this.options.create();
    this.#current = store;
    try {
      await store.migrate();
      if (check.skipWhen?.when(store.capabilities)) skip(check.skipWhen.note);
      await check.fn({ skip });
    } finally {
      for (const p of this.#peers.splice(0)) await p.close();
      this.#current = null;
      await store.close();
      await this.options.destroy?.(store);
    }
  }

  /** Runs checks without a test framework and reports each one's outcome. */
  async runAll(filter: (check: ConformanceCheck) => boolean = () => true): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    for (const check of this.checks().filter(filter)) {
      try {
        await this.run(check, (note) => {
          throw new CheckSkipped(note ?? '');
        });
        results.push({ title: check.fullTitle, status: 'passed' });
      } catch (error) {
        results.push(
          error instanceof CheckSkipped ? { title: check.fullTitle, status: 'skipped', note: error.message } : { title: check.fullTitle, status: 'failed', error },
        );
      }
    }
    return results;
  }

  // ── helpers (act on the running check's store) ───────────────────────────────
  readonly insert = async (jobs: NewJob[], opts: { now?: number; atomic?: boolean; actorId?: string; on?: StorageAdapter } = {}): Promise<InsertOutcome[]> => {
    return (opts.on ?? this.store).insertJobs({ jobs, actorId: opts.actorId ?? 'alice', now: opts.now ?? T0, atomic: opts.atomic ?? false });
  };
  readonly add = async (overrides: Partial<NewJob> = {}, now = T0): Promise<Job> => {
    const [o] = await this.insert([newJob(overrides)], { now });
    if (o?.kind !== 'inserted') throw new Error(`expected inserted, got ${JSON.stringify(o)}`);
    return o.job;
  };
  /** A claim as the engine makes it: promoting due jobs first (`promoteDue` {@link PROMOTE_DUE}; pass 0 for none). */
  readonly claim = async (opts: { now?: number; limit?: number; types?: string[]; workerId?: string; promoteDue?: number; on?: StorageAdapter } = {}): Promise<ClaimedJob[]> => {
    return (opts.on ?? this.store).claimJobs({
      workerId: opts.workerId ?? 'w1',
      types: opts.types ?? ['email', 'report'],
      limit: opts.limit ?? 10,
      now: opts.now ?? T0,
      leaseMs: LEASE_MS,
      promoteDue: opts.promoteDue ?? PROMOTE_DUE,
    });
  };
  readonly claimOne = async (now = T0, types?: string[]): Promise<ClaimedJob> => {
    const [c] = await this.claim({ now, limit: 1, ...(types ? { types } : {}) });
    if (c === undefined) throw new Error('nothing claimed');
    return c;
  };
  readonly settle = async (
    jobId: string,
    attempt: number,
    outcome: AttemptOutcome,
    now: number,
    extra: { onlyIfLeaseExpired?: boolean; actorId?: string; on?: StorageAdapter } = {},
  ): Promise<SettleOutcome> => {
    const [r] = await (extra.on ?? this.store).settleJobs({
      settles: [{ jobId, attempt, outcome, actorId: extra.actorId ?? 'engine:w1', ...(extra.onlyIfLeaseExpired ? { onlyIfLeaseExpired: true } : {}) }],
      now,
    });
    if (r === undefined) throw new Error('no settle result');
    return r;
  };
  readonly get = async (id: string): Promise<Job> => {
    const j = await this.store.getJob({ id, orgId: null });
    if (j === null) throw new Error(`job ${id} not found`);
    return j;
  };
  readonly statusOf = async (id: string): Promise<JobStatus> => (await this.get(id)).status;
  /** The job's history as `from>to` strings. */
  readonly transitions = async (id: string): Promise<string[]> => {
    return (await this.store.listHistory({ jobId: id })).map((h) => `${h.from ?? 'null'}>${h.to}`);
  };
  /** A job brought to `status` by contract operations only. */
  readonly jobIn = async (status: JobStatus, overrides: Partial<NewJob> = {}): Promise<Job> => {
    switch (status) {
      case 'queued':
        return this.add(overrides);
      case 'scheduled':
        return this.add({ runAt: T0 + 3_600_000, ...overrides });
      case 'waiting': {
        const parent = await this.add({ type: 'report', ...overrides });
        return this.add({ dependsOn: [parent.id], ...overrides });
      }
      case 'canceled': {
        const j = await this.add(overrides);
        await this.store.cancelJob({ jobId: j.id, orgId: null, actorId: 'alice', now: T0 });
        return this.get(j.id);
      }
      default: {
        const j = await this.add({ type: 'solo', ...overrides });
        const [c] = await this.claim({ types: [j.type], limit: 1 });
        if (c?.job.id !== j.id) throw new Error('could not claim the fresh job');
        if (status === 'running') return c.job;
        const outcome = status === 'completed' ? completedOutcome() : status === 'retrying' ? failedOutcome(T0 + 60_000) : failedOutcome(null);
        const r = await this.settle(j.id, c.attempt, outcome, T0 + 10);
        if (r.kind !== 'settled') throw new Error('could not settle');
        return r.job;
      }
    }
  };
  /** Another connection to the running check's database, or null (the kit closes it). */
  readonly peer = async (): Promise<StorageAdapter | null> => {
    if (!this.options.connectPeer) return null;
    const p = await this.options.connectPeer(this.#store());
    this.#peers.push(p);
    return p;
  };
}

/** The outcome of one check run by {@link ConformanceSuite.runAll}. */
export type CheckResult =
  | { title: string; status: 'passed' }
  | { title: string; status: 'skipped'; note: string }
  | { title: string; status: 'failed'; error: unknown };
