/**
 * The engine's instrumentation slot: what submits and attempts report, and to whom.
 *
 * Always: the engine's own counters ({@link AttemptCounters}, read by the Prometheus
 * exposition). Only when `jobwing/otel` installed hooks: spans and OpenTelemetry metrics.
 * Without hooks a submit costs one extra function call and an org note, an attempt one small
 * object; nothing here imports OpenTelemetry.
 */
import type { Clock } from './clock.js';
import { AttemptCounters } from './metrics/attempt-counters.js';
import type { AbortReason } from './states.js';
import type { AttemptOutcome, ClaimedJob, InsertOutcome, NewJob } from './storage/adapter.js';

/** Key of the slot on a {@link JobClient} (registered, so it is the same in every bundle). */
export const INSTRUMENTATION = Symbol.for('jobwing.instrumentation');

/** How an attempt ended, as the runner saw it. */
export interface AttemptEnd {
  /** `null`: the result was dropped (canceled, lease lost); see `abortReason`. */
  outcome: AttemptOutcome | null;
  abortReason?: AbortReason;
  /** What the handler threw, when it threw. */
  thrown?: unknown;
}

/** One attempt's instrumentation, from claim to result. */
export interface AttemptHooks {
  /** Runs the handler (with the attempt's trace context active, under jobwing/otel). */
  run<R>(fn: () => R): R;
  /** Called once, when the outcome is known (before it is settled). */
  end(end: AttemptEnd): void;
}

/** What `jobwing/otel` (or another integration) plugs into the slot. */
export interface InstrumentationHooks {
  /** Wraps the insert of `jobs`; may set each job's `traceContext` before calling `insert`. */
  send(jobs: readonly NewJob[], insert: () => Promise<InsertOutcome[]>): Promise<InsertOutcome[]>;
  /** Called when a claimed attempt is about to run. */
  startAttempt(claimed: ClaimedJob): AttemptHooks;
}

const passThrough = <R>(fn: () => R): R => fn();

/** One engine's slot. */
export class Instrumentation {
  readonly counters = new AttemptCounters();
  readonly #clock: Clock;
  #hooks: InstrumentationHooks | null = null;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Plugs hooks in (once per engine). */
  install(hooks: InstrumentationHooks): void {
    if (this.#hooks) throw new Error('This engine is already instrumented; call instrumentEngine() once per engine');
    this.#hooks = hooks;
  }

  /** True once hooks are installed. */
  get installed(): boolean {
    return this.#hooks !== null;
  }

  /** Wraps the insert of one submitted job. */
  sendOne(job: NewJob, insert: () => Promise<InsertOutcome>): Promise<InsertOutcome> {
    this.counters.noteOrg(job.orgId);
    const hooks = this.#hooks;
    if (!hooks) return insert();
    return hooks.send([job], async () => [await insert()]).then((r) => r[0]!);
  }

  /** Wraps the insert of a batch (submitMany). */
  send(jobs: readonly NewJob[], insert: () => Promise<InsertOutcome[]>): Promise<InsertOutcome[]> {
    for (const job of jobs) this.counters.noteOrg(job.orgId);
    return this.#hooks ? this.#hooks.send(jobs, insert) : insert();
  }

  /** Starts one attempt's instrumentation. */
  startAttempt(claimed: ClaimedJob): AttemptHooks {
    const hooks = this.#safeStart(claimed);
    const { job } = claimed;
    const startedAt = job.startedAt?.getTime() ?? this.#clock.now();
    let ended = false;
    return {
      run: hooks ? (fn) => hooks.run(fn) : passThrough,
      end: (end) => {
        if (ended) return;
        ended = true;
        const kind = end.outcome?.kind;
        if (kind === 'completed' || kind === 'failed') {
          this.counters.record({ type: job.type, orgId: job.orgId, durationSeconds: (this.#clock.now() - startedAt) / 1000, failed: kind === 'failed' });
        }
        try {
          hooks?.end(end);
        } catch {
          // Instrumentation never fails an attempt.
        }
      },
    };
  }

  #safeStart(claimed: ClaimedJob): AttemptHooks | undefined {
    try {
      return this.#hooks?.startAttempt(claimed);
    } catch {
      return undefined; // instrumentation never fails an attempt
    }
  }
}
