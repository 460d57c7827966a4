/** The stored form of a send span's context: round trip, and malformed values ignored. */
import { createTraceState, INVALID_SPAN_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { decodeTraceContext, encodeTraceContext } from '../../src/otel/trace-context.js';

const ctx = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };

describe('trace context column', () => {
  it('is a W3C traceparent, plus the tracestate on a second line', () => {
    expect(encodeTraceContext(ctx)).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const withState = encodeTraceContext({ ...ctx, traceState: createTraceState('vendor=abc,other=1') });
    expect(withState).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\nvendor=abc,other=1');
    const back = decodeTraceContext(withState);
    expect(back).toMatchObject({ ...ctx, isRemote: true });
    expect(back?.traceState?.get('vendor')).toBe('abc');
  });

  it('stores nothing for an invalid (no-op tracer) context', () => {
    expect(encodeTraceContext(INVALID_SPAN_CONTEXT)).toBeNull();
  });

  it('ignores absent or malformed values instead of throwing', () => {
    for (const bad of [null, undefined, '', 'garbage', '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-00000000000000000000000000000000-b7ad6b7169203331-01', '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01']) {
      expect(decodeTraceContext(bad)).toBeNull();
    }
    expect(decodeTraceContext('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\n,,=')?.spanId).toBe('b7ad6b7169203331');
  });
});
