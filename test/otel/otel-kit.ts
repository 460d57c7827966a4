/**
 * OpenTelemetry SDK pieces for the jobwing/otel tests: an in-memory span exporter, a metric
 * reader collected on demand, and the AsyncLocalStorage context manager (so the active
 * context follows awaits, as under @opentelemetry/sdk-node).
 */
import { context, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A reader that exports nothing by itself: the test calls `collect()`. */
class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** One metric's data points, flattened. */
export interface Points {
  unit: string;
  points: DataPoint<number | Histogram>[];
}

let tracing: { exporter: InMemorySpanExporter; tracerProvider: BasicTracerProvider } | null = null;

/**
 * Traces go to one in-memory exporter per process, registered as the global provider too
 * (a handler's `trace.getTracer()` must reach it; the global can be set only once).
 * Metrics get a fresh provider and reader per call, so counts start at zero.
 */
export function otelKit() {
  if (!tracing) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(tracerProvider);
    tracing = { exporter, tracerProvider };
  }
  const { exporter, tracerProvider } = tracing;
  exporter.reset();
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    /** Every metric collected now, by name. */
    async metrics(): Promise<Map<string, Points>> {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, Points>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const m of scope.metrics) out.set(m.descriptor.name, { unit: m.descriptor.unit, points: m.dataPoints as DataPoint<number | Histogram>[] });
      }
      return out;
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

/** Sum of a counter's points whose attributes include `match`. */
export function counterSum(p: Points | undefined, match: Attributes = {}): number {
  return (p?.points ?? []).filter((d) => matches(d.attributes, match)).reduce((s, d) => s + (d.value as number), 0);
}

/** Total count of a histogram's points whose attributes include `match`. */
export function histogramCount(p: Points | undefined, match: Attributes = {}): number {
  return (p?.points ?? []).filter((d) => matches(d.attributes, match)).reduce((s, d) => s + (d.value as Histogram).count, 0);
}

function matches(a: Attributes, match: Attributes): boolean {
  return Object.entries(match).every(([k, v]) => a[k] === v);
}
