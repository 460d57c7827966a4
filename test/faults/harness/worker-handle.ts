/** Process spawning: one worker process, its signals (the faults) and its IPC (submit, cancel). */
import { spawn, type ChildProcess } from 'node:child_process';
import type { WorkInput } from '../fixtures/job-types.js';
import type { SubmitLoop, WorkerConfig, WorkerMessage, WorkerRequest } from '../fixtures/worker-config.js';
import { REPO_ROOT } from './paths.js';

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
