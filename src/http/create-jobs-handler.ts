/**
 * `createJobsHandler`: the REST routes, Server-Sent Events, OpenAPI document and dashboard of
 * an engine, as one web-standard `(Request) => Promise<Response>`, routed by Hono.
 *
 * Order of checks for a request: route (404 / 405), then for state-changing methods the
 * content type (415: a cross-site HTML form cannot send `application/json`, so this is the
 * CSRF guard), then the actor (401), then the body size (413) and shape (400); everything
 * after that is the scoped client's decision, mapped to status codes in `http-errors.ts`.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { JobClient } from '../client.js';
import { systemClock, type Clock } from '../clock.js';
import { engineInternals, type JobEngine } from '../engine.js';
import type { Actor } from '../types.js';
import { parseOrThrow, zodValidationError } from '../validation.js';
import { serveDashboard } from './dashboard/index.js';
import { openEventStream, type EventStreamSettings } from './event-stream.js';
import { errorResponse, HttpError, jsonResponse } from './http-errors.js';
import { buildOpenApiDocument } from './openapi.js';
import { ROUTES, type RouteDef } from './routes.js';

/** What `authenticate` may return: an actor, a client (e.g. `engine.system`), or null (401). */
export type AuthenticateResult = Actor | JobClient | null | undefined;

/** Options of {@link createJobsHandler}. */
export interface JobsHandlerOptions {
  /**
   * Who is calling. Return the actor (every route then runs as `engine.as(actor)`), a client
   * such as `engine.system` for trusted single-tenant tools, or `null` for 401.
   * A throw is a 500 (reported to `onError`), never a leak of its message.
   */
  authenticate: (request: Request) => AuthenticateResult | Promise<AuthenticateResult>;
  /** Path prefix of every route, e.g. '/jobs-api'. (Default: '') */
  basePath?: string;
  /** Serve the dashboard at `GET {basePath}/`. (Default: true) */
  dashboard?: boolean;
  /** Largest request body accepted; larger is 413. (Default: 1 MiB) */
  maxBodyBytes?: number;
  /** Server-Sent Events tuning. */
  events?: {
    /** A comment line at least this often. (Default: 10_000: the contract promises one at least every 15 s, with room for a busy event loop) */
    heartbeatMs?: number;
    /** Most bytes buffered for one slow client; a client that stays full is dropped. (Default: 1 MiB) */
    maxBufferedBytes?: number;
    /** Reconnect delay suggested to browsers. (Default: 2_000) */
    retryMs?: number;
  };
  /** Called with every unexpected error (the client gets a bare 500). (Default: console.error) */
  onError?: (error: unknown, request: Request) => void;
}

/** A web-standard request handler. */
export type JobsHandler = (request: Request) => Promise<Response>;

const optionsSchema = z
  .object({
    authenticate: z.custom<JobsHandlerOptions['authenticate']>((f) => typeof f === 'function', 'must be a function (request) => actor | null'),
    basePath: z
      .string()
      .max(200)
      .regex(/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/, "must be '' or start with '/' and not end with '/', e.g. '/jobs-api'")
      .optional(),
    dashboard: z.boolean().optional(),
    maxBodyBytes: z.number().int().min(1).max(256 * 1024 * 1024).optional(),
    events: z
      .object({
        heartbeatMs: z.number().int().min(1).max(3_600_000).optional(),
        maxBufferedBytes: z.number().int().min(1024).max(256 * 1024 * 1024).optional(),
        retryMs: z.number().int().min(0).max(3_600_000).optional(),
      })
      .strict()
      .optional(),
    onError: z.custom<NonNullable<JobsHandlerOptions['onError']>>((f) => typeof f === 'function', 'must be a function').optional(),
  })
  .strict();

type Env = { Variables: { client: JobClient } };

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function isClient(v: unknown): v is JobClient {
  // Duck-typed: the CJS build may hold a second copy of the JobClient class.
  return !!v && typeof v === 'object' && typeof (v as JobClient).submit === 'function' && typeof (v as JobClient).list === 'function' && 'actor' in v;
}

/** `/jobs/:id` → a regex matching concrete paths, for the 405 check. */
function pathPattern(path: string): RegExp {
  const body = path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}$`);
}

/** Request values of repeatable query keys (array schemas) as arrays, others as one string. */
function queryObject(schema: z.ZodType, url: URL): Record<string, unknown> {
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
  const out: Record<string, unknown> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    let field = shape[key];
    if (field instanceof z.ZodOptional) field = field.unwrap() as z.ZodType;
    out[key] = field instanceof z.ZodArray || values.length > 1 ? values : values[0];
  }
  return out;
}

/**
 * Creates the handler. Mount it anywhere that speaks `Request`/`Response` (Hono, Next.js
 * route handlers, Bun, Deno), or on `node:http` with {@link toNodeHandler}.
 * @throws ValidationError naming the bad option
 * @example
 * ```ts
 * const handler = createJobsHandler(engine, {
 *   authenticate: async (req) => (await sessionUser(req)) ?? null,
 *   basePath: '/jobs-api',
 * });
 * http.createServer(toNodeHandler(handler)).listen(4000);
 * ```
 */
export function createJobsHandler(engine: JobEngine, options: JobsHandlerOptions): JobsHandler {
  const o = parseOrThrow(optionsSchema, options, 'createJobsHandler options');
  const base = o.basePath ?? '';
  const maxBodyBytes = o.maxBodyBytes ?? 1_048_576;
  const dashboard = o.dashboard ?? true;
  const report = o.onError ?? ((error: unknown) => console.error('[jobwing/http] unexpected error:', error));
  const settings: EventStreamSettings = {
    heartbeatMs: o.events?.heartbeatMs ?? 10_000,
    maxBufferedBytes: o.events?.maxBufferedBytes ?? 1_048_576,
    retryMs: o.events?.retryMs ?? 2_000,
    pageSize: 500,
  };
  // The engine's clock, so heartbeats follow a test's fake clock like every other timer.
  const clock: Clock = (engine as unknown as Record<symbol, { clock?: Clock } | undefined>)[engineInternals]?.clock ?? systemClock;
  let openapi: string | null = null;
  const routeNotFound = (path: string) => errorResponse(new HttpError(404, 'ROUTE_NOT_FOUND', `No route ${JSON.stringify(path.slice(0, 200))}`)).response;

  const app = new Hono<Env>({ strict: true });
  const known: { pattern: RegExp; method: string }[] = [];
  const on = (method: string, path: string, ...handlers: MiddlewareHandler<Env>[]) => {
    known.push({ pattern: pathPattern(path), method });
    app.on(method, path, ...(handlers as [MiddlewareHandler<Env>]));
  };

  const requireJson: MiddlewareHandler<Env> = async (c, next) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `${c.req.method} requests must have content-type: application/json${type ? ` (got ${type})` : ''}`);
    }
    await next();
  };

  const authenticate: MiddlewareHandler<Env> = async (c, next) => {
    const result = await o.authenticate(c.req.raw);
    if (result === null || result === undefined) throw new HttpError(401, 'UNAUTHENTICATED', 'Authentication required');
    let client: JobClient;
    if (isClient(result)) client = result;
    else {
      try {
        client = engine.as(result);
      } catch (error) {
        // A bad actor is the app's bug, not the caller's: 500, with the detail reported.
        throw new Error(`authenticate() returned an invalid actor: ${(error as Error).message}`, { cause: error });
      }
    }
    c.set('client', client);
    await next();
  };

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `The request body exceeds ${maxBodyBytes} bytes`);
    },
  });

  async function readBody(c: Context<Env>, def: RouteDef): Promise<unknown> {
    const text = await c.req.text();
    let value: unknown;
    if (text.trim() === '') {
      if (!def.bodyOptional) throw new HttpError(400, 'VALIDATION', 'A JSON request body is required', [{ path: [], message: 'required' }]);
      value = {};
    } else {
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new HttpError(400, 'VALIDATION', `Malformed JSON body: ${(error as Error).message}`, [{ path: [], message: 'malformed JSON' }]);
      }
    }
    const r = def.body!.safeParse(value);
    if (!r.success) throw zodValidationError('request body', r.error);
    return r.data;
  }

  for (const def of ROUTES) {
    const path = base + def.path;
    const method = def.method.toUpperCase();
    const chain: MiddlewareHandler<Env>[] = [];
    if (STATE_CHANGING.has(method)) chain.push(requireJson);
    chain.push(authenticate);
    if (def.body) chain.push(limitBody);
    chain.push(async (c) => {
      const url = new URL(c.req.url);
      const query = def.query ? parseOrThrow(def.query, queryObject(def.query, url), 'query') : undefined;
      const client = c.get('client');
      if (def.stream) {
        const q = query as { jobId?: string };
        // HEAD runs this GET route, but nobody would ever read (or cancel) the stream.
        if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' } });
        return openEventStream({ engine, client, clock, lastEventId: c.req.header('last-event-id') || null, jobId: q.jobId, signal: c.req.raw.signal, settings });
      }
      const body = def.body ? await readBody(c, def) : undefined;
      const result = await def.run({ client, params: c.req.param() as Record<string, string>, query, body, request: c.req.raw });
      return result instanceof Response ? result : jsonResponse(def.response.status, result);
    });
    on(method, path, ...chain);
  }

  on('GET', `${base}/openapi.json`, (c) => {
    openapi ??= JSON.stringify(buildOpenApiDocument({ basePath: base }));
    return Promise.resolve(c.body(openapi, 200, { 'content-type': 'application/json; charset=utf-8' }));
  });

  if (dashboard) {
    // Static and data-free: served without authentication (the API calls it makes are not).
    const serve = async (c: Context<Env>) => {
      const subpath = c.req.path.slice(base.length) || '/';
      const response = await serveDashboard(subpath, c.req.raw);
      return response ?? routeNotFound(c.req.path);
    };
    on('GET', `${base}/`, serve);
    on('GET', `${base}/assets/*`, serve);
    // The dashboard redirects `{basePath}` to `{basePath}/` (its URLs are relative to the page).
    if (base) on('GET', base, serve);
  }

  app.notFound((c) => {
    const path = c.req.path;
    const allowed = [...new Set(known.filter((k) => k.pattern.test(path)).map((k) => k.method))];
    if (allowed.length === 0) return routeNotFound(path);
    if (allowed.includes('GET')) allowed.push('HEAD');
    return errorResponse(new HttpError(405, 'METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${path}; use ${allowed.join(', ')}`, undefined, { allow: allowed.join(', ') })).response;
  });

  app.onError((error, c) => {
    const { response, unexpected } = errorResponse(error);
    if (unexpected) {
      try {
        report(error, c.req.raw);
      } catch {
        // A failing reporter must not turn a 500 into a crash.
      }
    }
    return response;
  });

  return async (request: Request) => app.fetch(request);
}
