/**
 * Typed events. Listeners run synchronously inside `emit`; a throwing listener, or an async
 * listener whose promise rejects, is reported as `engine:error` and never breaks the engine.
 */
import { EventEmitter } from 'eventemitter3';
import type { JobProgressEvent, JobStatusEvent } from './types.js';

/** What `engine:error` carries: the error and where it happened. */
export interface EngineErrorEvent {
  error: unknown;
  /** Which part of the engine reported it, e.g. 'listener', 'settle', 'heartbeat'. */
  source: string;
}

/** What `engine:stopping` carries. */
export interface EngineStoppingEvent {
  /** The grace period `stop()` was called with. */
  graceMs: number;
}

/** The engine's events and their payloads. */
export interface JobwingEvents {
  'job:status': (event: JobStatusEvent) => void;
  'job:progress': (event: JobProgressEvent) => void;
  'engine:error': (event: EngineErrorEvent) => void;
  /** `stop()` has begun: long-lived consumers (e.g. Server-Sent Events streams) end now. */
  'engine:stopping': (event: EngineStoppingEvent) => void;
}

/** Event names. */
export type JobwingEventName = keyof JobwingEvents;

/** An emitter whose listener errors are caught and turned into `engine:error`. */
export class SafeEmitter extends EventEmitter<JobwingEvents> {
  /** Emits to each listener; a throwing listener does not stop the others. */
  safeEmit<E extends JobwingEventName>(event: E, payload: Parameters<JobwingEvents[E]>[0]): void {
    const listeners = this.listeners(event) as ((p: typeof payload) => void)[];
    if (listeners.length === 0 && event === 'engine:error') {
      // An error nobody listens to must not vanish silently.
      const { error, source } = payload as EngineErrorEvent;
      console.error(`[jobwing] ${source}:`, error);
      return;
    }
    for (const listener of listeners) {
      try {
        const result: unknown = listener(payload);
        // An async listener's rejection would otherwise be an unhandled rejection, which
        // exits the host process by default: report it like a sync throw.
        if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
          (result as PromiseLike<unknown>).then(undefined, (error: unknown) => this.#listenerFailed(event, error));
        }
      } catch (error) {
        this.#listenerFailed(event, error);
      }
    }
  }

  #listenerFailed(event: JobwingEventName, error: unknown): void {
    if (event === 'engine:error') {
      // Never loop on a broken error listener; still never lose the error silently.
      console.error('[jobwing] an engine:error listener failed:', error);
      return;
    }
    this.safeEmit('engine:error', { error, source: 'listener' });
  }

  /** True when anyone listens to job events (lets the engine skip reading the event tail). */
  hasJobListeners(): boolean {
    return this.listenerCount('job:status') > 0 || this.listenerCount('job:progress') > 0;
  }
}
