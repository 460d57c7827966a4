/**
 * The fault harness: real worker processes on a shared store, real faults, and invariant
 * checks that compare the store's record (jobs, history, leases) with the side effects the
 * handlers logged.
 *
 * - {@link Cluster.create} makes a fresh store (a SQLite file in a temp dir, or a Postgres
 *   schema of its own), migrated, with an observer adapter for reads (no engine: the test
 *   process never rescues, claims or runs anything).
 * - {@link Cluster.spawn} starts `fixtures/worker.ts` in a child process; {@link WorkerHandle}
 *   kills, stops, continues and terminates it and sends it submits and cancels over IPC.
 * - Faults: SIGKILL, SIGSTOP/SIGCONT, SIGTERM, {@link Cluster.holdSqliteLock} (a second
 *   connection holding `BEGIN EXCLUSIVE` past busy_timeout) and
 *   {@link Cluster.terminateBackends} (`pg_terminate_backend` of a worker's connections).
 * - {@link Cluster.checkInvariants}: every acknowledged job present and terminal; one exit from
 *   `running` per attempt and at most one terminal transition; no attempt run twice; more than
 *   one successful effect only where history shows a rescue (`worker_lost`); plus the lease
 *   sampler's finding: no lease held by a dead process after lease + rescue interval.
 *
 * Waiting is always a bounded poll of the store; the only sleeps are fault durations.
 * Randomness comes from one seed (`JOBWING_FAULT_SEED` or random), printed on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID as uuid } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { sqliteStorage, type Job, type JobHistoryEntry, type JobStatus, type StorageAdapter } from '../../src/index.js';
import type { EffectLine } from './fixtures/effect-log.js';
import type { WorkInput } from './fixtures/job-types.js';
import type { StoreSpec, SubmitLoop, WorkerConfig, WorkerMessage, WorkerRequest } from './fixtures/worker-config.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Repository root (where `tsx` resolves). */
export const REPO_ROOT = resolve(HERE, '../..');
const WORKER_SCRIPT = join(HERE, 'fixtures', 'worker.ts');
const POSTGRES_MODULE = join(REPO_ROOT, 'src', 'postgres.ts');
const BUNDLE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'jobwing-faults');

/** `JOBWING_TEST_PG_URL`, or undefined: Postgres variants skip visibly without it. */
export const PG_URL = process.env.JOBWING_TEST_PG_URL || undefined;
/** Why the Postgres variants skip (title suffix), or null when they run. */
export const PG_SKIP_REASON: string | null = !PG_URL
  ? '(skipped: set JOBWING_TEST_PG_URL to run the Postgres variant)'
  : !existsSync(POSTGRES_MODULE)
    ? '(skipped: src/postgres.ts, the Postgres store, does not exist yet)'
    : null;

export type StoreKind = 'sqlite' | 'postgres';
const TERMINAL: readonly JobStatus[] = ['completed', 'canceled', 'dead_letter'];
const LIVE: JobStatus[] = ['waiting', 'scheduled', 'queued', 'running', 'retrying'];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ── seeded randomness ─────────────────────────────────────────────────────────

/** A small seeded random source (mulberry32). */
export class Rng {
  #s: number;
  constructor(readonly seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

/** The seed of this run: `JOBWING_FAULT_SEED`, or a fresh random one. */
export function resolveSeed(): number {
  const env = process.env.JOBWING_FAULT_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n)) throw new Error(`JOBWING_FAULT_SEED must be an integer, got ${env}`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

// ── waiting ───────────────────────────────────────────────────────────────────

/** Polls `cond` every `everyMs` until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, opts: { timeoutMs?: number; everyMs?: number; onPoll?: () => Promise<void> | void } = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    await opts.onPoll?.();
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await sleep(opts.everyMs ?? 50);
  }
}

// ── effects ───────────────────────────────────────────────────────────────────

/** Every effect line of a cluster's logs, indexed by job; read incrementally. */
export class EffectIndex {
  readonly byJob = new Map<string, EffectLine[]>();
  readonly all: EffectLine[] = [];
  readonly #offsets = new Map<string, number>();

  /** Reads what was appended to `paths` since the last call. */
  refresh(paths: Iterable<string>): void {
    for (const path of paths) {
      if (!existsSync(path)) continue;
      const from = this.#offsets.get(path) ?? 0;
      const size = statSync(path).size;
      if (size <= from) continue;
      const fd = openSync(path, 'r');
      const buf = Buffer.alloc(size - from);
      try {
        readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) continue;
      this.#offsets.set(path, from + Buffer.byteLength(text.slice(0, end + 1)));
      for (const line of text.slice(0, end).split('\n')) {
        if (line.trim() === '') continue;
        let e: EffectLine;
        try {
          e = JSON.parse(line) as EffectLine;
        } catch {
          continue; // a line torn by SIGKILL mid-write (never observed with appendFileSync, but harmless)
        }
        this.all.push(e);
        if (typeof e.job === 'string') {
          let list = this.byJob.get(e.job);
          if (!list) this.byJob.set(e.job, (list = []));
          list.push(e);
        }
      }
    }
  }

  of(jobId: string, kind?: string): EffectLine[] {
    const list = this.byJob.get(jobId) ?? [];
    return kind === undefined ? list : list.filter((e) => e.k === kind);
  }
}

// ── workers ───────────────────────────────────────────────────────────────────

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

let workerCommand: Promise<string[]> | null = null;

/**
 * The command line of a worker process: `node --import tsx fixtures/worker.ts` when
 * `JOBWING_FAULT_TSX=1`; by default `node <bundle>.mjs`, where the bundle is the same
 * worker.ts and src/ compiled once by esbuild (the same compiler tsx uses), cached by content
 * hash. Why: on a 2-core machine tsx's module hooks make every worker start take 2–5 s
 * (kysely's hundreds of modules each go through them); the bundle starts in under 1 s, which
 * is what keeps the fault suite inside its time budget.
 */
export function workerArgs(): Promise<string[]> {
  workerCommand ??= buildWorkerBundle().catch((err: unknown) => {
    console.error(`[faults] bundling the worker failed, falling back to tsx: ${(err as Error).message}`);
    return ['--import', 'tsx', WORKER_SCRIPT];
  });
  return workerCommand;
}

async function buildWorkerBundle(): Promise<string[]> {
  if (process.env.JOBWING_FAULT_TSX === '1') return ['--import', 'tsx', WORKER_SCRIPT];
  const hasPostgres = existsSync(POSTGRES_MODULE);
  const hash = createHash('sha256');
  for (const f of [...listFiles(join(REPO_ROOT, 'src')), ...listFiles(join(HERE, 'fixtures'))]) hash.update(f).update(readFileSync(f));
  const out = join(BUNDLE_DIR, `worker-${hash.digest('hex').slice(0, 16)}.mjs`);
  if (existsSync(out)) return [out];
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const esbuild = await import('esbuild');
  const tmp = `${out}.${process.pid}.${uuid().slice(0, 8)}.tmp`;
  await esbuild.build({
    stdin: { contents: `import 'jwf:postgres';\nimport ${JSON.stringify(WORKER_SCRIPT)};\n`, resolveDir: REPO_ROOT, loader: 'ts', sourcefile: 'fault-worker-entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: tmp,
    // Less to parse at every worker start (identifiers kept, so stack traces stay readable).
    minifyWhitespace: true,
    minifySyntax: true,
    // Native or optional: loaded from node_modules at run time.
    external: ['better-sqlite3', 'pg', 'pg-native'],
    banner: { js: `import { createRequire as __jwfCreateRequire } from 'node:module'; const require = __jwfCreateRequire(import.meta.url);` },
    logLevel: 'silent',
    // package.json says sideEffects: false, which would drop the entry's bare imports.
    ignoreAnnotations: true,
    plugins: [
      {
        // Registers the Postgres store (when src/postgres.ts exists) before worker.ts runs.
        name: 'jwf-postgres',
        setup(b) {
          b.onResolve({ filter: /^jwf:postgres$/ }, () => ({ path: 'postgres', namespace: 'jwf' }));
          b.onLoad({ filter: /.*/, namespace: 'jwf' }, () => ({
            contents: hasPostgres ? `import * as m from ${JSON.stringify(POSTGRES_MODULE)};\n(globalThis as any).__jobwingFaultPostgres = m;\n` : 'export {};\n',
            resolveDir: REPO_ROOT,
            loader: 'ts',
          }));
        },
      },
    ],
  });
  renameSync(tmp, out);
  // Bundles of older sources pile up as src/ changes; drop those unused for an hour.
  for (const f of readdirSync(BUNDLE_DIR)) {
    const p = join(BUNDLE_DIR, f);
    if (p !== out && /^worker-.*\.mjs$/.test(f) && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { force: true });
  }
  return [out];
}

/** How to start one worker process. */
export interface SpawnOptions {
  /** (Default: a fresh id) */
  id?: string;
  worker?: boolean;
  concurrency?: number;
  leaseMs?: number;
  pollIntervalMs?: number;
  graceMs?: number;
  types?: ('fx.work' | 'fx.noop')[];
  clockSkewMs?: number;
  submitLoop?: SubmitLoop;
  settleLoop?: { concurrency: number };
  /** SQLite only: overrides of the cluster's busy_timeout / synchronous. */
  busyTimeoutMs?: number;
  synchronous?: 'FULL' | 'NORMAL';
}

/** One spawned worker process. */
export class WorkerHandle {
  readonly id: string;
  readonly logPath: string;
  readonly child: ChildProcess;
  readonly config: WorkerConfig;
  readonly spawnedAt = Date.now();
  readyAt: number | null = null;
  /** Since when it has been running and not stopped (null while stopped or dead). */
  availableSince: number | null = null;
  exitedAt: number | null = null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  stopped = false;
  ready: Promise<Extract<WorkerMessage, { k: 'ready' }>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Last lines of stderr/stdout, for failure messages. */
  output = '';
  readonly #pending = new Map<number, { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }>();
  #rid = 0;
  #onSubmitted: ((m: Extract<WorkerMessage, { k: 'submitted' }>) => void)[] = [];
  #submittedMessage: Extract<WorkerMessage, { k: 'submitted' }> | null = null;

  constructor(config: WorkerConfig, args: string[]) {
    this.id = config.id;
    this.config = config;
    this.logPath = config.logPath;
    this.child = spawn(process.execPath, [...args, JSON.stringify(config)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolveExit) => {
      this.child.on('exit', (code, signal) => {
        this.exitedAt = Date.now();
        this.availableSince = null;
        this.exit = { code, signal };
        for (const p of this.#pending.values()) p.reject(new Error(`worker ${this.id} exited (${signal ?? code}) before replying`));
        this.#pending.clear();
        resolveExit({ code, signal });
      });
    });
    this.ready = new Promise((resolveReady, rejectReady) => {
      this.child.on('message', (raw) => {
        const m = raw as WorkerMessage;
        if (m.k === 'ready') {
          this.readyAt = Date.now();
          if (!this.stopped) this.availableSince = this.readyAt;
          resolveReady(m);
        } else if (m.k === 'reply') {
          const p = this.#pending.get(m.rid);
          this.#pending.delete(m.rid);
          p?.resolve(m);
        } else if (m.k === 'submitted') {
          this.#submittedMessage = m;
          for (const f of this.#onSubmitted.splice(0)) f(m);
        }
      });
      void this.exited.then((e) => rejectReady(new Error(`worker ${this.id} exited (${e.signal ?? e.code}) before it was ready:\n${this.output}`)));
    });
    // A rejection nobody awaits (worker killed before ready on purpose) is not an error.
    this.ready.catch(() => undefined);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Alive: spawned and not exited (it may be stopped). */
  get alive(): boolean {
    return this.exit === null;
  }

  /** Alive, ready and not stopped: able to claim, heartbeat and rescue. */
  get available(): boolean {
    return this.alive && this.readyAt !== null && !this.stopped;
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
  }

  /** SIGKILL; resolves when the process is gone. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process freezes (timers, heartbeats, everything). */
  stop(): void {
    if (!this.alive || this.stopped) return;
    this.stopped = true;
    this.availableSince = null;
    this.signal('SIGSTOP');
  }

  /** SIGCONT. */
  cont(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.signal('SIGCONT');
    if (this.alive && this.readyAt !== null) this.availableSince = Date.now();
  }

  /** SIGTERM: graceful stop (`engine.stop({ graceMs })`), then exit 0. */
  term(): void {
    this.cont();
    this.signal('SIGTERM');
  }

  #request(req: WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'rid'> : never) : never): Promise<WorkerMessage> {
    if (!this.alive || !this.child.connected) return Promise.reject(new Error(`worker ${this.id} is gone`));
    const rid = ++this.#rid;
    return new Promise((resolveReq, rejectReq) => {
      this.#pending.set(rid, { resolve: resolveReq, reject: rejectReq });
      this.child.send({ ...req, rid } as WorkerRequest, (err) => {
        if (err) {
          this.#pending.delete(rid);
          rejectReq(err);
        }
      });
    });
  }

  /** Submits jobs in this process (one `submitMany`); resolves with their ids once acknowledged. */
  async submit(entries: { type: 'fx.work' | 'fx.noop'; input: WorkInput | Record<string, unknown>; options?: Record<string, unknown> }[]): Promise<string[]> {
    const m = await this.#request({ op: 'submit', entries });
    if (m.k !== 'reply') throw new Error('unexpected reply');
    if (!m.ok) throw new Error(`submit via ${this.id} failed: ${m.error}`);
    return m.ids;
  }

  /** Cancels a job through this process's engine. */
  async cancel(id: string): Promise<void> {
    const m = await this.#request({ op: 'cancel', id });
    if (m.k !== 'reply') throw new Error('unexpected reply');
    if (!m.ok) throw new Error(`cancel via ${this.id} failed: ${m.error}`);
  }

  /** Resolves when the worker's own submit loop has finished. */
  submitted(): Promise<Extract<WorkerMessage, { k: 'submitted' }>> {
    if (this.#submittedMessage) return Promise.resolve(this.#submittedMessage);
    return new Promise((resolveSubmitted, rejectSubmitted) => {
      this.#onSubmitted.push(resolveSubmitted);
      void this.exited.then((e) => rejectSubmitted(new Error(`worker ${this.id} exited (${e.signal ?? e.code}) before its submits finished:\n${this.output}`)));
    });
  }
}

// ── the cluster ───────────────────────────────────────────────────────────────

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

/** One broken rule. */
export interface Violation {
  rule: string;
  jobId?: string;
  detail: string;
}

/** What {@link Cluster.checkInvariants} checks. */
export interface CheckOptions {
  /** Jobs to check in depth (Default: every job in the store). */
  jobIds?: Iterable<string>;
  /** Require every job in the store to be terminal. (Default: true) */
  allTerminal?: boolean;
}

interface PostgresModule {
  postgresStorage(options: { connectionString: string; schema: string }): StorageAdapter;
}

/** Loads `src/postgres.ts` (built by another engineer) without a static import. */
export async function loadPostgresModule(): Promise<PostgresModule> {
  if (!existsSync(POSTGRES_MODULE)) throw new Error(`Postgres store not available yet: ${POSTGRES_MODULE} does not exist`);
  return (await import(/* @vite-ignore */ POSTGRES_MODULE)) as PostgresModule;
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
  #leaseTimer: NodeJS.Timeout | null = null;
  #leaseSampling: Promise<void> | null = null;
  #reportedLeases = new Set<string>();
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
  }

  /** A fresh, migrated store and an observer adapter on it. */
  static async create(o: ClusterOptions): Promise<Cluster> {
    const seed = o.seed ?? resolveSeed();
    const dir = mkdtempSync(join(tmpdir(), `jobwing-faults-${o.name}-`));
    let spec: StoreSpec;
    let observer: StorageAdapter;
    if (o.store === 'sqlite') {
      spec = { kind: 'sqlite', path: join(dir, 'jobs.sqlite'), ...(o.busyTimeoutMs !== undefined ? { busyTimeoutMs: o.busyTimeoutMs } : {}), ...(o.synchronous ? { synchronous: o.synchronous } : {}) };
      observer = sqliteStorage({ path: spec.path });
    } else {
      if (!PG_URL) throw new Error('JOBWING_TEST_PG_URL is not set');
      const schema = `jwf_${o.name}_${uuid().slice(0, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
      spec = { kind: 'postgres', url: PG_URL, schema };
      observer = (await loadPostgresModule()).postgresStorage({ connectionString: PG_URL, schema });
    }
    await observer.migrate();
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
    if (spec.kind === 'sqlite') {
      c.#sqliteReader = new Database(spec.path, { readonly: true, timeout: 5000 });
    } else {
      c.#pgAdmin = new pg.Client({ connectionString: spec.url, application_name: 'jobwing-fault-harness' });
      c.#pgAdmin.on('error', () => undefined);
      await c.#pgAdmin.connect();
    }
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

  /**
   * SQLite: a second connection takes `BEGIN EXCLUSIVE` and holds it for `ms` (past the
   * workers' busy_timeout, so their writes fail with SQLITE_BUSY), then commits.
   * `onHeld` runs once the lock is held.
   */
  async holdSqliteLock(ms: number, onHeld?: () => void): Promise<void> {
    if (this.spec.kind !== 'sqlite') throw new Error('holdSqliteLock needs a SQLite store');
    // busy_timeout 0 and an async retry: a synchronous busy wait here would freeze the
    // harness, and with it the SIGCONT of a stopped worker that holds the write lock.
    const db = new Database(this.spec.path, { timeout: 0 });
    try {
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          db.exec('BEGIN EXCLUSIVE');
          break;
        } catch (err) {
          if (!/BUSY|locked/i.test(String((err as Error).message)) || Date.now() > deadline) throw err;
          await sleep(5);
        }
      }
      this.note({ k: 'lock', ms });
      try {
        onHeld?.();
        await sleep(ms); // the fault's duration
      } finally {
        db.exec('COMMIT');
      }
    } finally {
      db.close();
    }
  }

  /**
   * Postgres: terminates the backends of `workers` (default: every live worker), found by
   * `application_name` (set by the harness in the URL) and by the client ports of the
   * processes' own TCP sockets. Returns how many backends were terminated.
   */
  async terminateBackends(workers: WorkerHandle[] = this.workers.filter((w) => w.alive)): Promise<number> {
    if (!this.#pgAdmin || this.spec.kind !== 'postgres') throw new Error('terminateBackends needs a Postgres store');
    const names = workers.map((w) => `jwf_${w.id}`);
    const ports = workers.flatMap((w) => clientPortsOf(w.pid, Number(new URL(this.spec.kind === 'postgres' ? this.spec.url : '').port || 5432)));
    const res = await this.#pgAdmin.query<{ n: string }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND datname = current_database()
         AND (application_name = ANY($1::text[]) OR client_port = ANY($2::int[]))`,
      [names, ports],
    );
    const n = Number(res.rows[0]?.n ?? 0);
    this.note({ k: 'terminate', workers: workers.map((w) => w.id), backends: n });
    return n;
  }

  /**
   * Postgres: holds row locks on `jobIds` (another session's `SELECT … FOR UPDATE`) while
   * `fn` runs, so the workers' writes to those jobs (settle, heartbeat) wait on them.
   */
  async withPostgresRowLocks<T>(jobIds: string[], fn: () => Promise<T>): Promise<T> {
    if (this.spec.kind !== 'postgres') throw new Error('withPostgresRowLocks needs a Postgres store');
    const client = new pg.Client({ connectionString: this.spec.url, application_name: 'jobwing-fault-locker' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT id FROM "${this.spec.schema}".jobs WHERE id = ANY($1::text[]) FOR UPDATE`, [jobIds]);
      try {
        return await fn();
      } finally {
        await client.query('COMMIT');
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Postgres: how many of `worker`'s backends are waiting on a lock. */
  async lockWaiters(worker: WorkerHandle): Promise<number> {
    const res = await this.#pgAdmin!.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND (application_name = $1 OR client_port = ANY($2::int[]))`,
      [`jwf_${worker.id}`, clientPortsOf(worker.pid, Number(new URL(this.spec.kind === 'postgres' ? this.spec.url : '').port || 5432))],
    );
    return Number(res.rows[0]?.n ?? 0);
  }

  // ── leases ──────────────────────────────────────────────────────────────────

  /** Samples leases every `everyMs` until `stopLeaseSampler()` (also sampled on every wait). */
  startLeaseSampler(everyMs = 200): void {
    if (this.#leaseTimer) return;
    const tick = () => {
      this.#leaseTimer = setTimeout(() => void this.sampleLeases().finally(tick), everyMs);
    };
    tick();
  }

  async stopLeaseSampler(): Promise<void> {
    if (this.#leaseTimer) clearTimeout(this.#leaseTimer);
    this.#leaseTimer = null;
    await this.#leaseSampling;
  }

  /**
   * Records a violation for each running job whose lease is held by a dead worker and expired
   * more than {@link rescueBoundMs} ago, counting only time during which some other engine was
   * available to rescue it.
   */
  sampleLeases(): Promise<void> {
    this.#leaseSampling ??= this.#sampleLeases().finally(() => (this.#leaseSampling = null));
    return this.#leaseSampling;
  }

  async #sampleLeases(): Promise<void> {
    if (this.#closed) return;
    const rows = await this.#runningLeases();
    const now = Date.now();
    const dead = new Map(this.workers.filter((w) => !w.alive).map((w) => [w.id, w]));
    const rescuerSince = Math.min(...this.workers.filter((w) => w.available && w.availableSince !== null).map((w) => w.availableSince!));
    if (!Number.isFinite(rescuerSince)) return;
    for (const r of rows) {
      if (r.owner === null || r.expiresAt === null) continue;
      const owner = dead.get(r.owner);
      if (!owner) continue;
      const since = Math.max(r.expiresAt, rescuerSince, owner.exitedAt ?? 0);
      const key = `${r.id}/${r.owner}`;
      if (now - since > this.rescueBoundMs && !this.#reportedLeases.has(key)) {
        this.#reportedLeases.add(key);
        this.violations.push({ rule: 'lease-held-by-dead-worker', jobId: r.id, detail: `lease of dead worker ${r.owner} expired at ${new Date(r.expiresAt).toISOString()}, still running ${now - since} ms after a rescuer was available (bound ${this.rescueBoundMs} ms)` });
      }
    }
  }

  async #runningLeases(): Promise<{ id: string; owner: string | null; expiresAt: number | null }[]> {
    const toMs = (v: unknown): number | null => (v === null || v === undefined ? null : v instanceof Date ? v.getTime() : Number(v));
    if (this.#sqliteReader) {
      const rows = this.#sqliteReader.prepare(`SELECT id, lease_owner, lease_expires_at FROM jobs WHERE status = 'running'`).all() as { id: string; lease_owner: string | null; lease_expires_at: number | null }[];
      return rows.map((r) => ({ id: r.id, owner: r.lease_owner, expiresAt: toMs(r.lease_expires_at) }));
    }
    const schema = (this.spec as { schema: string }).schema;
    const res = await this.#pgAdmin!.query(`SELECT id, lease_owner, lease_expires_at FROM "${schema}".jobs WHERE status = 'running'`);
    return res.rows.map((r: { id: string; lease_owner: string | null; lease_expires_at: unknown }) => ({ id: r.id, owner: r.lease_owner, expiresAt: toMs(r.lease_expires_at) }));
  }

  /** SQLite only: `PRAGMA integrity_check` of the file (from a fresh connection). */
  integrityCheck(): string {
    if (this.spec.kind !== 'sqlite') throw new Error('integrityCheck needs a SQLite store');
    const db = new Database(this.spec.path, { readonly: true, timeout: 5000 });
    try {
      return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    } finally {
      db.close();
    }
  }

  // ── invariants ──────────────────────────────────────────────────────────────

  /**
   * Checks the invariants over the store and the effect logs (plus the lease sampler's
   * findings). Returns every violation; an empty list means all hold.
   */
  async checkInvariants(o: CheckOptions = {}): Promise<Violation[]> {
    this.refreshEffects();
    await this.sampleLeases();
    const v: Violation[] = [...this.violations];
    const jobs = new Map((await this.allJobs()).map((j) => [j.id, j]));
    for (const id of this.acked) if (!jobs.has(id)) v.push({ rule: 'acknowledged-job-missing', jobId: id, detail: 'submit resolved, but the job is not in the store' });
    if (o.allTerminal !== false) {
      for (const j of jobs.values()) if (!TERMINAL.includes(j.status)) v.push({ rule: 'not-terminal', jobId: j.id, detail: `status ${j.status}` });
    }
    const ids = o.jobIds ? [...o.jobIds] : [...jobs.keys()];
    const histories = new Map<string, JobHistoryEntry[]>();
    for (const id of ids) {
      const job = jobs.get(id);
      if (!job) continue;
      const h = await this.history(id);
      histories.set(id, h);
      v.push(...checkJob(job, h, this.effects));
    }
    // Dependencies: a child's handler never started before a parent's handler had succeeded
    // (real time of the effects; the store's own order is covered by the history chain:
    // a waiting child must pass waiting → queued, written with the parent's completion).
    for (const id of ids) {
      const job = jobs.get(id);
      if (!job || job.dependsOn.length === 0) continue;
      const firstStart = this.effects.of(id, 'start')[0];
      for (const parentId of job.dependsOn) {
        const parent = jobs.get(parentId);
        const ph = histories.get(parentId) ?? (parent ? await this.history(parentId) : []);
        const done = ph.find((e) => e.to === 'completed');
        const parentEnd = done ? this.effects.of(parentId, 'end').find((e) => e.attempt === done.attempt) : undefined;
        if (firstStart && (!parentEnd || firstStart.t < parentEnd.t)) {
          v.push({ rule: 'child-ran-before-parent-completed', jobId: id, detail: `child started at ${new Date(firstStart.t).toISOString()}, parent ${parentId} ${parentEnd ? `succeeded at ${new Date(parentEnd.t).toISOString()}` : `is ${parent?.status ?? 'missing'}`}` });
        }
        if (job.status === 'completed' && parent && parent.status !== 'completed') v.push({ rule: 'child-completed-parent-not', jobId: id, detail: `parent ${parentId} is ${parent.status}` });
      }
    }
    return v;
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

/** Local ports of `pid`'s TCP connections to `remotePort` (Linux /proc). */
export function clientPortsOf(pid: number, remotePort: number): number[] {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // fd closed meanwhile
      }
    }
    const ports: number[] = [];
    for (const file of ['tcp', 'tcp6']) {
      let text = '';
      try {
        text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 10) continue;
        const local = cols[1]!.split(':')[1]!;
        const remote = cols[2]!.split(':')[1]!;
        if (parseInt(remote, 16) === remotePort && inodes.has(cols[9]!)) ports.push(parseInt(local, 16));
      }
    }
    return ports;
  } catch {
    return [];
  }
}

/** A `fx.work` input that just works for `ms`. */
export function work(ms = 20, extra: Partial<WorkInput['run']> = {}, tag?: string): WorkInput {
  return { ...(tag ? { tag } : {}), run: { ms, ...extra } };
}
