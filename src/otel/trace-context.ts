/**
 * The send span's context as stored in the `trace_context` column: the W3C `traceparent`
 * header, then a newline and the `tracestate` header when there is one. Written and read
 * here only, so any process (and any OpenTelemetry setup, whatever its propagator) can link
 * its process span to the send span.
 */
import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The stored form of `ctx`, or null for an invalid (unsampled no-op) context. */
export function encodeTraceContext(ctx: SpanContext): string | null {
  if (!isSpanContextValid(ctx)) return null;
  const parent = `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const state = ctx.traceState?.serialize();
  return state ? `${parent}\n${state}` : parent;
}

/** The span context of a stored value, or null when absent or malformed (never throws). */
export function decodeTraceContext(stored: string | null | undefined): SpanContext | null {
  if (!stored) return null;
  const nl = stored.indexOf('\n');
  const m = TRACEPARENT.exec(nl < 0 ? stored : stored.slice(0, nl));
  if (!m) return null;
  const ctx: SpanContext = { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true };
  if (nl >= 0) {
    try {
      ctx.traceState = createTraceState(stored.slice(nl + 1));
    } catch {
      // a malformed tracestate is dropped, the link is kept
    }
  }
  return isSpanContextValid(ctx) ? ctx : null;
}
