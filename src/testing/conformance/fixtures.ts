/**
 * Data the conformance checks build on: one base instant, one lease length, a valid
 * {@link NewJob} factory and the attempt outcomes the checks settle with. Exported so a store's
 * own tests can use the same fixtures.
 */
import { randomUUID } from 'node:crypto';
import type { JobStatus } from '../../states.js';
import type { JobError } from '../../types.js';
import type { AttemptOutcome, ListJobsRequest, NewJob } from '../../storage/adapter.js';

/** Base instant of every check: 2023-11-14T22:13:20Z. Time is the `now` passed in, never the clock. */
export const T0 = 1_700_000_000_000;
/** Lease length of every claim the checks make. */
export const LEASE_MS = 30_000;
/** `promoteDue` of the checks' claims (what the engine asks for): due jobs promoted first. */
export const PROMOTE_DUE = 1000;
/** Every job status, in the order metrics report them. */
export const ALL_STATUSES: JobStatus[] = ['waiting', 'scheduled', 'queued', 'running', 'retrying', 'completed', 'canceled', 'dead_letter'];

let counter = 0;

/** A valid NewJob (type 'email', org 'acme', owner 'alice', due at T0) with overrides. */
export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  const input = 'input' in overrides ? overrides.input : { n: ++counter };
  return {
    id: randomUUID(),
    type: 'email',
    orgId: 'acme',
    ownerId: 'alice',
    priority: 'normal',
    maxRetries: 3,
    timeoutMs: 60_000,
    runAt: T0,
    dependsOn: [],
    dedupHash: null,
    dedupWindowMs: 0,
    ...overrides,
    input,
    inputJson: JSON.stringify(input),
  };
}

export const completedOutcome = (output: unknown = { ok: true }): AttemptOutcome => ({ kind: 'completed', output, outputJson: JSON.stringify(output) });
export const transientError: JobError = { type: 'transient', message: 'boom', name: 'Error' };
export const failedOutcome = (retryAt: number | null, error: JobError = transientError): AttemptOutcome => ({ kind: 'failed', error, retryAt });

/** A ListJobsRequest matching everything, with overrides. */
export function listAll(o: Partial<ListJobsRequest> = {}): ListJobsRequest {
  return { orgId: null, statuses: null, types: null, ownerId: null, createdAfter: null, createdBefore: null, limit: 50, cursor: null, ...o };
}
