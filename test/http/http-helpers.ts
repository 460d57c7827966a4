/**
 * Shared setup of the HTTP tests: an engine on a store kind with a fake clock, a handler
 * with bearer tokens for two orgs and an admin, a JSON request helper, and an SSE reader
 * that parses frames off a Response body (no sockets, no sleeps).
 */
import { onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, type Actor, type AnyJobType, type ScheduleDefinition } from '../../src/index.js';
import { createJobsHandler, type JobsHandlerOptions } from '../../src/http/index.js';
import { FakeClock } from '../../src/testing/index.js';
import { add, broken, gate } from '../helpers/fixtures.js';
import type { StoreKind } from '../helpers/stores.js';

/** The fake login: token → actor. */
export const ACTORS: Record<string, Actor> = {
  alice: { userId: 'alice', orgId: 'acme', permissions: ['reports:send'] },
  carol: { userId: 'carol', orgId: 'acme' },
  bob: { userId: 'bob', orgId: 'globex', permissions: ['reports:send'] },
  admin: { userId: 'root', orgId: 'ops', admin: true },
};

/** Needs a permission to submit. */
export const report = defineJobType({
  name: 'report',
  input: z.object({ name: z.string() }),
  requiresPermission: 'reports:send',
  async handler(input, ctx) {
    await ctx.progress(30, 'gathering');
    await ctx.progress(60, 'rendering');
    return { url: `https://example.test/${input.name}` };
  },
});

/** Dedup on (window 1 h). */
export const unique = defineJobType({
  name: 'unique',
  input: z.object({ key: z.string() }),
  dedupWindowMs: 3_600_000,
  async handler() {
    return { ok: true };
  },
});

export function bearer(request: Request): Actor | null {
  const m = /^Bearer (\w+)$/.exec(request.headers.get('authorization') ?? '');
  return (m && ACTORS[m[1]!]) || null;
}

/** A started engine (and its handler) on `kind`, stopped when the test ends. */
export async function setupHttp(kind: StoreKind, options: Partial<JobsHandlerOptions> = {}, engineOptions: { worker?: boolean; schedules?: ScheduleDefinition[] } = {}) {
  kind.fresh();
  const clock = new FakeClock();
  const g = gate();
  const jobTypes: AnyJobType[] = [add, broken, report, unique, g.type];
  const engine = new JobEngine({ jobTypes, storage: kind.open(), clock, pollIntervalMs: 1000, leaseMs: 30_000, ...engineOptions });
  await engine.start();
  onTestFinished(() => engine.stop({ graceMs: 0 }));
  const errors: unknown[] = [];
  const handler = createJobsHandler(engine, { authenticate: bearer, dashboard: false, onError: (e) => errors.push(e), ...options });
  const base = options.basePath ?? '';
  /** Sends a request; `body` objects are sent as JSON with the JSON content type. */
  async function call(method: string, path: string, init: { token?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}) {
    const headers: Record<string, string> = { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, init.headers);
    const res = await handler(new Request(`http://test.local${base}${path}`, { method, headers, body, signal: init.signal }));
    const text = res.headers.get('content-type')?.includes('event-stream') ? '' : await res.text();
    let json: any = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, res };
  }
  return { engine, clock, handler, call, gate: g, errors };
}

/** One parsed SSE block: comments, and the fields of an event. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: any;
  comments: string[];
  retry?: number;
}

/** Reads SSE frames off a response body, one `next()` at a time. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  bytes = 0;

  constructor(res: Response) {
    this.#reader = res.body!.getReader();
  }

  /** The next complete frame, or null at the end of the stream. Rejects if the stream errored. */
  async next(): Promise<SseFrame | null> {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return parseBlock(block);
      }
      const { done, value } = await this.#reader.read();
      if (done) return null;
      this.bytes += value.byteLength;
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** The next frame that is an event (skips comment-only and id-only frames). */
  async nextEvent(): Promise<SseFrame> {
    for (;;) {
      const f = await this.next();
      if (f === null) throw new Error('stream ended');
      if (f.event) return f;
    }
  }

  /** Events until `pred` matches one (included). */
  async until(pred: (f: SseFrame) => boolean): Promise<SseFrame[]> {
    const out: SseFrame[] = [];
    for (;;) {
      const f = await this.nextEvent();
      out.push(f);
      if (pred(f)) return out;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

function parseBlock(block: string): SseFrame {
  const frame: SseFrame = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frame.comments.push(line.slice(1).trim());
    else {
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') frame.data = JSON.parse(value);
      else if (field === 'retry') frame.retry = Number(value);
    }
  }
  return frame;
}

/** Lets queued macrotasks run `n` times (no timer). */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}
