/**
 * Records job events so tests can wait on them instead of sleeping:
 * `await recorder.next('job:status', (e) => e.to === 'completed')`.
 */
import type { JobProgressEvent, JobStatusEvent } from '../types.js';

type Recorded = { 'job:status': JobStatusEvent; 'job:progress': JobProgressEvent };
type Source = { on(event: 'job:status' | 'job:progress', listener: (e: never) => void): unknown };

/** Keeps every job event it hears and answers waits on them. */
export class EventRecorder {
  readonly status: JobStatusEvent[] = [];
  readonly progress: JobProgressEvent[] = [];
  #waiters: { event: keyof Recorded; pred: (e: never) => boolean; resolve: (e: never) => void }[] = [];

  /** Listens on an engine or a scoped client. */
  constructor(source: Source) {
    source.on('job:status', ((e: JobStatusEvent) => this.#record('job:status', e)) as (e: never) => void);
    source.on('job:progress', ((e: JobProgressEvent) => this.#record('job:progress', e)) as (e: never) => void);
  }

  /** The first event (already heard or still to come) that matches `pred`. */
  next<E extends keyof Recorded>(event: E, pred: (e: Recorded[E]) => boolean = () => true): Promise<Recorded[E]> {
    const seen = (event === 'job:status' ? this.status : this.progress) as Recorded[E][];
    const hit = seen.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => this.#waiters.push({ event, pred: pred as (e: never) => boolean, resolve: resolve as (e: never) => void }));
  }

  /** Status transitions heard for one job, as `from→to` strings. */
  transitionsOf(jobId: string): string[] {
    return this.status.filter((e) => e.jobId === jobId).map((e) => `${e.from ?? 'null'}→${e.to}`);
  }

  #record<E extends keyof Recorded>(event: E, e: Recorded[E]): void {
    (event === 'job:status' ? this.status : this.progress).push(e as never);
    this.#waiters = this.#waiters.filter((w) => {
      if (w.event !== event || !w.pred(e as never)) return true;
      w.resolve(e as never);
      return false;
    });
  }
}
