/**
 * `instrumentEngine(engine, options)`: plugs OpenTelemetry traces and metrics into an engine.
 */
import { metrics, trace, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { JobEngine } from '../engine.js';
import { INSTRUMENTATION, type Instrumentation } from '../instrumentation.js';
import { createOtelHooks } from './otel-hooks.js';

/** Options of {@link instrumentEngine}. */
export interface InstrumentEngineOptions {
  /** (Default: the global tracer provider, `trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider;
  /** (Default: the global meter provider, `metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider;
}

/** Name (and instrumentation scope) of the tracer and meter. */
export const INSTRUMENTATION_SCOPE = 'jobwing';

/**
 * Traces every submit (`send <type>`, PRODUCER) and attempt (`process <type>`, CONSUMER,
 * linked to the send span, also across processes) and records the messaging metrics. Call
 * it once per engine, before `engine.start()`, in every process (web and worker).
 * @throws TypeError when `engine` is not a JobEngine or a provider is not one, or when the
 *   engine is already instrumented
 * @example
 * ```ts
 * import { instrumentEngine } from 'jobwing/otel';
 * instrumentEngine(engine); // the global providers, e.g. those of @opentelemetry/sdk-node
 * await engine.start();
 * ```
 */
export function instrumentEngine(engine: JobEngine, options: InstrumentEngineOptions = {}): void {
  const slot = (engine as unknown as { system?: Record<symbol, unknown> } | null)?.system?.[INSTRUMENTATION] as Instrumentation | undefined;
  if (!slot || typeof slot.install !== 'function') throw new TypeError('instrumentEngine: `engine` must be a JobEngine');
  if (options === null || typeof options !== 'object') throw new TypeError('instrumentEngine: `options` must be an object');
  const { tracerProvider, meterProvider } = options;
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    throw new TypeError('instrumentEngine: `tracerProvider` must be an OpenTelemetry TracerProvider (with getTracer)');
  }
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    throw new TypeError('instrumentEngine: `meterProvider` must be an OpenTelemetry MeterProvider (with getMeter)');
  }
  if (slot.installed) throw new TypeError('instrumentEngine: this engine is already instrumented');
  const tracer = (tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);
  const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
  slot.install(createOtelHooks(tracer, meter));
}
