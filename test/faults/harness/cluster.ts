/**
 * The cluster: a store with worker processes around it, the harness's reads of it, the faults
 * it injects and the invariant checks over it. The parts live in their own files (store setup,
 * processes, faults, leases, invariants); this class puts them together behind one object.
 */
import { randomUUID as uuid } from 'node:crypto';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { Job, JobHistoryEntry, JobStatus, StorageAdapter } from '../../../src/index.js';
import type { EffectLine } from '../fixtures/effect-log.js';
import type { WorkInput } from '../fixtures/job-types.js';
import type { StoreSpec, WorkerConfig } from '../fixtures/worker-config.js';
import { EffectIndex } from './effects.js';
import { holdSqliteLock, lockWaiters, terminateBackends, withPostgresRowLocks } from './faults.js';
import { checkInvariants, formatViolations, type CheckOptions, type Violation } from './invariants.js';
import { LeaseSampler, runningLeases } from './leases.js';
import { POSTGRES_MODULE } from './paths.js';
import { Rng, resolveSeed } from './random.js';
import { integrityCheck, LIVE, openRawConnection, openStore, TERMINAL, type StoreKind } from './store.js';
import { sleep, waitFor } from './wait.js';
import { workerArgs } from './worker-bundle.js';
import { WorkerHandle, type SpawnOptions } from './worker-handle.js';

/** Options of {@link Cluster.create}. */
export interface ClusterOptions {
  store: StoreKind;
  /** Names the temp dir / Postgres schema (letters, digits, underscores). */
  name: string;
  seed?: number;
  /** Defaults of every worker. (Default: leaseMs 1000; pollIntervalMs 100 on SQLite, 250 on Postgres) */
  leaseMs?: number;
  pollIntervalMs?: number;
  concurrency?: number;
  graceMs?: number;
  /** SQLite: busy_timeout of the workers' connections. (Default: the store's 5000) */
  busyTimeoutMs?: number;
  synchronous?: 'FULL' | 'NORMAL';
}

/** A store with worker processes around it. Always `close()` it (afterEach). */
export class Cluster {
  readonly workers: WorkerHandle[] = [];
  /** Ids whose submit was acknowledged (resolved) to the harness or logged as `ack`. */
  readonly acked = new Set<string>();
  readonly effects = new EffectIndex();
  readonly violations: Violation[] = [];
  /** Jobs already checked in depth (by earlier chaos rounds). */
  readonly checked = new Set<string>();
  readonly rng: Rng;
  readonly #leases: LeaseSampler;
  #sqliteReader: Database.Database | null = null;
  #pgAdmin: pg.Client | null = null;
  #closed = false;
  #seq = 0;

  private constructor(
    readonly options: Required<Omit<ClusterOptions, 'busyTimeoutMs' | 'synchronous' | 'seed'>> & Pick<ClusterOptions, 'busyTimeoutMs' | 'synchronous'>,
    readonly seed: number,
    readonly dir: string,
    readonly spec: StoreSpec,
    readonly observer: StorageAdapter,
  ) {
    this.rng = new Rng(seed);
    this.#leases = new LeaseSampler({
      workers: this.workers,
      violations: this.violations,
      rescueBoundMs: () => this.rescueBoundMs,
      closed: () => this.#closed,
      runningLeases: () => runningLeases(this.spec, this.#sqliteReader, this.#pgAdmin),
    });
  }

  /** A fresh, migrated store and an observer adapter on it. */
  static async create(o: ClusterOptions): Promise<Cluster> {
    const seed = o.seed ?? resolveSeed();
    const { dir, spec, observer } = await openStore(o);
    const c = new Cluster(
      {
        store: o.store,
        name: o.name,
        leaseMs: o.leaseMs ?? 1000,
        // Postgres wakes workers by LISTEN/NOTIFY, so it can poll less (an idle worker polling
        // every 50 ms costs ~10% of a core, plus the server's share, on this 2-core machine).
        pollIntervalMs: o.pollIntervalMs ?? (o.store === 'postgres' ? 250 : 100),
        concurrency: o.concurrency ?? 4,
        graceMs: o.graceMs ?? 1000,
        busyTimeoutMs: o.busyTimeoutMs,
        synchronous: o.synchronous,
      },
      seed,
      dir,
      spec,
      observer,
    );
    const raw = await openRawConnection(spec);
    c.#sqliteReader = raw.sqliteReader;
    c.#pgAdmin = raw.pgAdmin;
    return c;
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  /**
   * Longest time a dead worker's expired lease may stay in place while another engine is
   * available: the leader's tick (lease/3) + a dead leader's leadership running out (lease),
   * plus generous slack for a loaded 2-core machine.
   */
  get rescueBoundMs(): number {
    return 2 * this.leaseMs + 4000;
  }

  /** Starts one worker process and waits until it is ready. */
  async spawn(o: SpawnOptions = {}, opts: { waitReady?: boolean } = {}): Promise<WorkerHandle> {
    const id = o.id ?? `w${++this.#seq}-${uuid().slice(0, 6)}`;
    let store = this.spec;
    if (store.kind === 'sqlite' && (o.busyTimeoutMs !== undefined || o.synchronous)) {
      store = { ...store, ...(o.busyTimeoutMs !== undefined ? { busyTimeoutMs: o.busyTimeoutMs } : {}), ...(o.synchronous ? { synchronous: o.synchronous } : {}) };
    }
    if (store.kind === 'postgres') {
      // Tag the worker's connections so pg_terminate_backend can find them (if the store keeps it).
      const url = new URL(store.url);
      url.searchParams.set('application_name', `jwf_${id}`);
      store = { ...store, url: url.toString() };
    }
    const config: WorkerConfig = {
      id,
      store,
      logPath: join(this.dir, `${id}.log`),
      postgresModule: POSTGRES_MODULE,
      worker: o.worker ?? true,
      concurrency: o.concurrency ?? this.options.concurrency,
      leaseMs: o.leaseMs ?? this.options.leaseMs,
      pollIntervalMs: o.pollIntervalMs ?? this.options.pollIntervalMs,
      graceMs: o.graceMs ?? this.options.graceMs,
      ...(o.types ? { types: o.types } : {}),
      ...(o.clockSkewMs ? { clockSkewMs: o.clockSkewMs } : {}),
      ...(o.submitLoop ? { submitLoop: o.submitLoop } : {}),
      ...(o.settleLoop ? { settleLoop: o.settleLoop } : {}),
    };
    writeFileSync(config.logPath, '');
    const w = new WorkerHandle(config, await workerArgs());
    this.workers.push(w);
    // A ready worker that exits on its own with an error code (not killed by a signal, not a
    // graceful stop) crashed: store errors must be reported and retried, never kill a worker.
    // (A start that fails is the caller's to handle, and shows up as `ready` rejecting.)
    void w.exited.then((e) => {
      if (this.#closed || e.signal !== null || e.code === 0 || w.readyAt === null) return;
      this.violations.push({ rule: 'worker-crashed', detail: `${w.id} (pid ${w.pid}) exited with code ${e.code}:\n${w.output.trim().split('\n').slice(0, 12).join('\n')}` });
    });
    if (opts.waitReady !== false) await w.ready;
    return w;
  }

  /** Starts several workers at once. */
  spawnMany(n: number, o: SpawnOptions = {}): Promise<WorkerHandle[]> {
    return Promise.all(Array.from({ length: n }, () => this.spawn(o)));
  }

  /**
   * Keeps `n` workers (spawned with `o`) alive: whenever one exits, a replacement is started
   * (after `delayMs()`, a fault duration). Returns a function that stops supervising.
   */
  supervise(o: SpawnOptions = {}, delayMs: () => number = () => 0): () => void {
    let active = true;
    const watch = (w: WorkerHandle) => {
      void w.exited.then(async () => {
        if (!active || this.#closed) return;
        const d = delayMs();
        if (d > 0) await sleep(d);
        if (!active || this.#closed) return;
        // Not waiting for readiness: a replacement may itself be killed before it is ready.
        watch(await this.spawn(o, { waitReady: false }));
      });
    };
    for (const w of this.workers.filter((x) => x.alive)) watch(w);
    return () => {
      active = false;
    };
  }

  /** Appends a line to the harness's own log (`harness.log`: faults injected, with times). */
  note(fields: { k: string; [key: string]: unknown }): void {
    if (this.#closed) return;
    appendFileSync(join(this.dir, 'harness.log'), JSON.stringify({ t: Date.now(), ...fields }) + '\n');
  }

  /** Workers alive, ready and not stopped. */
  available(): WorkerHandle[] {
    return this.workers.filter((w) => w.available);
  }

  /** Submits through `via` (default: a random available worker); records the acknowledged ids. */
  async submit(entries: { type?: 'fx.work' | 'fx.noop'; input: WorkInput | Record<string, unknown>; options?: Record<string, unknown> }[], via?: WorkerHandle): Promise<string[]> {
    const w = via ?? this.rng.pick(this.available());
    const ids = await w.submit(entries.map((e) => ({ type: e.type ?? 'fx.work', input: e.input, ...(e.options ? { options: e.options } : {}) })));
    for (const id of ids) this.acked.add(id);
    return ids;
  }

  /** Reads new effect lines; also adds `ack` lines (submits made by workers themselves). */
  refreshEffects(): EffectIndex {
    const before = this.effects.all.length;
    this.effects.refresh(this.workers.map((w) => w.logPath));
    for (let i = before; i < this.effects.all.length; i++) {
      const e = this.effects.all[i]!;
      if (e.k === 'ack' && typeof e.job === 'string') this.acked.add(e.job);
    }
    return this.effects;
  }

  /** Waits until an effect line matching `pred` exists; returns it. */
  waitForEffect(what: string, pred: (e: EffectLine) => boolean, timeoutMs = 30_000): Promise<EffectLine> {
    return waitFor(what, () => this.refreshEffects().all.find(pred), { timeoutMs, everyMs: 20 });
  }

  async job(id: string): Promise<Job> {
    const j = await this.observer.getJob({ id, orgId: null });
    if (!j) throw new Error(`job ${id} not found`);
    return j;
  }

  history(id: string): Promise<JobHistoryEntry[]> {
    return this.observer.listHistory({ jobId: id });
  }

  /** Every job in the store, newest first. */
  async allJobs(statuses: JobStatus[] | null = null): Promise<Job[]> {
    const out: Job[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Job[]; nextCursor: string | null } = await this.observer.listJobs({ orgId: null, statuses, types: null, ownerId: null, createdAfter: null, createdBefore: null, limit: 500, cursor });
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return out;
  }

  /** Waits (bounded) until `ids` (default: every job in the store) are terminal. */
  async waitAllTerminal(opts: { ids?: Iterable<string>; timeoutMs?: number } = {}): Promise<void> {
    const ids = opts.ids ? [...opts.ids] : null;
    await waitFor(
      ids ? `${ids.length} jobs terminal` : 'every job terminal',
      async () => {
        if (ids) {
          for (const id of ids) {
            const j = await this.observer.getJob({ id, orgId: null });
            if (!j || !TERMINAL.includes(j.status)) return false;
          }
          return true;
        }
        return (await this.allJobs(LIVE)).length === 0;
      },
      { timeoutMs: opts.timeoutMs ?? 60_000, everyMs: 100, onPoll: () => this.sampleLeases() },
    ).catch(async (err: Error) => {
      const live = await this.allJobs(LIVE);
      const detail = live.slice(0, 5).map((j) => `${j.id} ${j.status} retry=${j.retryCount}`).join('; ');
      throw new Error(`${err.message}; still live: ${live.length} [${detail}]; workers: ${this.describeWorkers()}`);
    });
  }

  describeWorkers(): string {
    return this.workers.map((w) => `${w.id}(pid ${w.pid}${w.stopped ? ' stopped' : ''}${w.exit ? ` exited ${w.exit.signal ?? w.exit.code}` : ''})`).join(', ');
  }

  // ── faults ──────────────────────────────────────────────────────────────────

  /** SQLite: holds the write lock for `ms`, past the workers' busy_timeout (see faults.ts). */
  async holdSqliteLock(ms: number, onHeld?: () => void): Promise<void> {
    if (this.spec.kind !== 'sqlite') throw new Error('holdSqliteLock needs a SQLite store');
    return holdSqliteLock(this.spec.path, ms, (f) => this.note(f), onHeld);
  }

  /** Postgres: terminates the backends of `workers` (default: every live worker); returns how many. */
  async terminateBackends(workers: WorkerHandle[] = this.workers.filter((w) => w.alive)): Promise<number> {
    if (!this.#pgAdmin || this.spec.kind !== 'postgres') throw new Error('terminateBackends needs a Postgres store');
    return terminateBackends(this.#pgAdmin, this.spec, workers, (f) => this.note(f));
  }

  /** Postgres: holds row locks on `jobIds` while `fn` runs. */
  async withPostgresRowLocks<T>(jobIds: string[], fn: () => Promise<T>): Promise<T> {
    if (this.spec.kind !== 'postgres') throw new Error('withPostgresRowLocks needs a Postgres store');
    return withPostgresRowLocks(this.spec.url, this.spec.schema, jobIds, fn);
  }

  /** Postgres: how many of `worker`'s backends are waiting on a lock. */
  async lockWaiters(worker: WorkerHandle): Promise<number> {
    return lockWaiters(this.#pgAdmin!, this.spec, worker);
  }

  // ── leases ──────────────────────────────────────────────────────────────────

  /** Samples leases every `everyMs` until `stopLeaseSampler()` (also sampled on every wait). */
  startLeaseSampler(everyMs = 200): void {
    this.#leases.start(everyMs);
  }

  stopLeaseSampler(): Promise<void> {
    return this.#leases.stop();
  }

  /** Records a violation for each lease a dead worker holds past {@link rescueBoundMs} (see leases.ts). */
  sampleLeases(): Promise<void> {
    return this.#leases.sample();
  }

  /** SQLite only: `PRAGMA integrity_check` of the file (from a fresh connection). */
  integrityCheck(): string {
    if (this.spec.kind !== 'sqlite') throw new Error('integrityCheck needs a SQLite store');
    return integrityCheck(this.spec.path);
  }

  // ── invariants ──────────────────────────────────────────────────────────────

  /**
   * Checks the invariants over the store and the effect logs (plus the lease sampler's
   * findings). Returns every violation; an empty list means all hold.
   */
  checkInvariants(o: CheckOptions = {}): Promise<Violation[]> {
    return checkInvariants(this, o);
  }

  /** Throws with every violation (and the seed) unless there are none. */
  async assertInvariants(o: CheckOptions = {}): Promise<void> {
    const v = await this.checkInvariants(o);
    if (v.length > 0) throw new Error(formatViolations(v, this.seed));
  }

  /** Kills every worker still running, closes connections, removes the store. Idempotent. */
  async close(opts: { keepFiles?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.stopLeaseSampler();
    await Promise.all(this.workers.map((w) => w.kill()));
    await this.observer.close().catch(() => undefined);
    this.#sqliteReader?.close();
    if (this.#pgAdmin) {
      if (!opts.keepFiles && this.spec.kind === 'postgres') await this.#pgAdmin.query(`DROP SCHEMA IF EXISTS "${this.spec.schema}" CASCADE`).catch(() => undefined);
      await this.#pgAdmin.end().catch(() => undefined);
    }
    if (!opts.keepFiles) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A `fx.work` input that just works for `ms`. */
export function work(ms = 20, extra: Partial<WorkInput['run']> = {}, tag?: string): WorkInput {
  return { ...(tag ? { tag } : {}), run: { ms, ...extra } };
}
