/**
 * Attribute names and values of the OpenTelemetry messaging semantic conventions used by
 * jobwing/otel (written out: the semconv package is not a dependency).
 */
import type { Attributes } from '@opentelemetry/api';

export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  messageId: 'messaging.message.id',
  errorType: 'error.type',
  orgId: 'jobwing.org_id',
  attempt: 'jobwing.attempt',
  priority: 'jobwing.priority',
  outcome: 'jobwing.outcome',
  willRetry: 'jobwing.will_retry',
} as const;

/** `messaging.system` of every span and metric. */
export const MESSAGING_SYSTEM = 'jobwing';

/** Attributes every metric point of an operation on `type` carries (low cardinality only). */
export function metricAttributes(type: string, operation: 'send' | 'process', errorType?: string): Attributes {
  const a: Attributes = { [ATTR.system]: MESSAGING_SYSTEM, [ATTR.destination]: type, [ATTR.operationName]: operation };
  if (errorType !== undefined) a[ATTR.errorType] = errorType;
  return a;
}
