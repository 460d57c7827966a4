/**
 * The OpenTelemetry hooks jobwing/otel plugs into an engine's instrumentation slot.
 *
 * Spans (messaging conventions): `send <type>` (PRODUCER) around each submitted job's insert,
 * its context stored with the job; `process <type>` (CONSUMER) per attempt, a child of the
 * stored send context AND linked to it (one trace from the request that enqueued the job to
 * the handler, in whatever process the handler runs), and the active context while the
 * handler runs, so the handler's own spans are its children. The ambient context of the
 * worker is ignored on purpose: whatever happened to be active when the scheduler woke up
 * (often a request that submitted something) is not this job's parent.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { AttemptEnd, AttemptHooks, InstrumentationHooks } from '../instrumentation.js';
import { DURATION_BUCKETS_SECONDS } from '../metrics/attempt-counters.js';
import type { ClaimedJob, InsertOutcome, NewJob } from '../storage/adapter.js';
import { ATTR, MESSAGING_SYSTEM, metricAttributes } from './attributes.js';
import { decodeTraceContext, encodeTraceContext } from './trace-context.js';

interface Instruments {
  sent: Counter;
  consumed: Counter;
  processDuration: Histogram;
  queueWait: Histogram;
}

function createInstruments(meter: Meter): Instruments {
  const advice = { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] };
  return {
    sent: meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Jobs submitted (one per job; error.type when the submit was refused)' }),
    consumed: meter.createCounter('messaging.client.consumed.messages', { unit: '{message}', description: 'Attempts started (one per claimed attempt)' }),
    processDuration: meter.createHistogram('messaging.process.duration', { unit: 's', description: 'Duration of one attempt, handler start to result', advice }),
    queueWait: meter.createHistogram('jobwing.queue.wait', { unit: 's', description: 'Time from when a job was due (runAt) to the start of its attempt', advice }),
  };
}

/** `error.type` of a refused insert. */
function insertErrorType(outcome: InsertOutcome): string | undefined {
  switch (outcome.kind) {
    case 'inserted':
      return undefined;
    case 'duplicate':
      return 'duplicate';
    case 'parent_not_found':
      return 'parent_not_found';
    case 'not_written':
      return 'not_written';
  }
}

/** `error.type` of something thrown: its class name, as the conventions suggest. */
function thrownErrorType(error: unknown): string {
  try {
    const name = (error as { name?: unknown } | null)?.name;
    return typeof name === 'string' && name ? name : '_OTHER';
  } catch {
    return '_OTHER';
  }
}

function recordThrown(span: Span, error: unknown): void {
  try {
    if (error instanceof Error) span.recordException(error);
    else span.recordException(String(error));
  } catch {
    // an unprintable thrown value is not worth failing over
  }
}

/** Builds the hooks for one engine. */
export function createOtelHooks(tracer: Tracer, meter: Meter): InstrumentationHooks {
  const m = createInstruments(meter);

  function startSend(job: NewJob, parent: ReturnType<typeof context.active>): Span {
    const span = tracer.startSpan(
      `send ${job.type}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTR.system]: MESSAGING_SYSTEM,
          [ATTR.destination]: job.type,
          [ATTR.operationName]: 'send',
          [ATTR.operationType]: 'send',
          [ATTR.messageId]: job.id,
          [ATTR.orgId]: job.orgId,
          [ATTR.priority]: job.priority,
        },
      },
      parent,
    );
    job.traceContext = encodeTraceContext(span.spanContext());
    return span;
  }

  function endSend(span: Span, job: NewJob, errorType: string | undefined, message?: string): void {
    if (errorType !== undefined) {
      span.setAttribute(ATTR.errorType, errorType);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    span.end();
    m.sent.add(1, metricAttributes(job.type, 'send', errorType));
  }

  async function send(jobs: readonly NewJob[], insert: () => Promise<InsertOutcome[]>): Promise<InsertOutcome[]> {
    const parent = context.active();
    const spans = jobs.map((job) => startSend(job, parent));
    let outcomes: InsertOutcome[];
    try {
      // The store's own spans (a pg instrumentation, say) nest under the (first) send span.
      outcomes = await context.with(trace.setSpan(parent, spans[0]!), insert);
    } catch (error) {
      const type = thrownErrorType(error);
      spans.forEach((span, i) => {
        recordThrown(span, error);
        endSend(span, jobs[i]!, type, 'The submit failed');
      });
      throw error;
    }
    spans.forEach((span, i) => {
      const o = outcomes[i];
      endSend(span, jobs[i]!, o ? insertErrorType(o) : 'not_written', o?.kind);
    });
    return outcomes;
  }

  function startAttempt(claimed: ClaimedJob): AttemptHooks {
    const { job, attempt } = claimed;
    const sendContext = decodeTraceContext(claimed.traceContext);
    const parent = sendContext ? trace.setSpanContext(ROOT_CONTEXT, sendContext) : ROOT_CONTEXT;
    const attributes: Attributes = {
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.destination]: job.type,
      [ATTR.operationName]: 'process',
      [ATTR.operationType]: 'process',
      [ATTR.messageId]: job.id,
      [ATTR.orgId]: job.orgId,
      [ATTR.attempt]: attempt,
      [ATTR.priority]: job.priority,
    };
    const span = tracer.startSpan(`process ${job.type}`, { kind: SpanKind.CONSUMER, attributes, links: sendContext ? [{ context: sendContext }] : [] }, parent);
    const active = trace.setSpan(parent, span);
    const started = performance.now();
    m.consumed.add(1, metricAttributes(job.type, 'process'));
    if (job.startedAt) m.queueWait.record(Math.max(0, job.startedAt.getTime() - job.runAt.getTime()) / 1000, metricAttributes(job.type, 'process'));

    return {
      run: (fn) => context.with(active, fn),
      end: (end: AttemptEnd) => {
        const errorType = endProcessSpan(span, end);
        m.processDuration.record((performance.now() - started) / 1000, metricAttributes(job.type, 'process', errorType));
      },
    };
  }

  return { send, startAttempt };
}

/** Records the attempt's end on its span; returns its `error.type`, if it failed. */
function endProcessSpan(span: Span, end: AttemptEnd): string | undefined {
  const o = end.outcome;
  let errorType: string | undefined;
  if (o === null) {
    // Result dropped: a cancel is the user's decision, a lost lease is a failure of this attempt.
    span.setAttribute(ATTR.outcome, end.abortReason ?? 'aborted');
    if (end.abortReason === 'lease_lost') {
      errorType = 'lease_lost';
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'The attempt lost its lease' });
    }
  } else if (o.kind === 'failed') {
    errorType = o.error.type; // transient | permanent (the classifier), timeout, …
    span.setAttribute(ATTR.outcome, 'failed');
    span.setAttribute(ATTR.willRetry, o.retryAt !== null);
    if (end.thrown !== undefined) recordThrown(span, end.thrown);
    span.setStatus({ code: SpanStatusCode.ERROR, message: o.error.message });
  } else {
    span.setAttribute(ATTR.outcome, o.kind); // completed | released
  }
  if (errorType !== undefined) span.setAttribute(ATTR.errorType, errorType);
  span.end();
  return errorType;
}
