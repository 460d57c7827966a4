/**
 * `toNodeHandler`: runs a web-standard handler on `node:http` (and frameworks built on it,
 * e.g. Express). Request bodies stream in; response bodies stream out honouring the socket's
 * backpressure (a write that returns false waits for 'drain' before reading the next chunk),
 * so a slow client slows its own stream instead of growing memory. A client that goes away
 * aborts the request's signal and cancels the response stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A `node:http` request listener. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The request body as a web stream that respects backpressure (pauses the socket while its
 * queue is full), and a `discard()` that drains whatever the handler left unread (e.g. after
 * a 413), so the connection stays usable, as node:http does for unread bodies.
 */
function bodyStream(req: IncomingMessage): { stream: ReadableStream<Uint8Array>; discard: () => void } {
  let discarding = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        req.on('data', (chunk: Buffer) => {
          if (discarding) return;
          c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((c.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once('end', () => {
          if (!discarding) c.close();
        });
        req.once('error', (e) => {
          if (!discarding) c.error(e);
        });
        req.pause();
      },
      pull() {
        req.resume();
      },
      cancel() {
        discarding = true;
        req.resume();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
  const discard = () => {
    if (discarding || req.complete) return;
    discarding = true;
    try {
      controller.error(new Error('request body discarded'));
    } catch {
      // Already closed.
    }
    req.resume();
  };
  return { stream, discard };
}

function toRequest(req: IncomingMessage, signal: AbortSignal): { request: Request; discard: () => void } {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = req.headers.host ?? 'localhost';
  const url = new URL(req.url ?? '/', `${encrypted ? 'https' : 'http'}://${host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || value === undefined) continue; // HTTP/2 pseudo-headers
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  let discard = () => {};
  if (hasBody) {
    const body = bodyStream(req);
    init.body = body.stream;
    init.duplex = 'half';
    discard = body.discard;
  }
  return { request: new Request(url, init), discard };
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  // Rejects if the stream errors, even while we wait for 'drain' (a dropped, stalled client:
  // its socket must be closed, not kept waiting for a drain that never comes).
  const failed = reader.closed.then(
    () => new Promise<never>(() => {}),
    (error: unknown) => Promise.reject(error instanceof Error ? error : new Error(String(error))),
  );
  failed.catch(() => undefined);
  let gone = false;
  const onClose = () => {
    gone = true;
    reader.cancel().catch(() => undefined);
  };
  res.once('close', onClose);
  // An event stream needs its headers out at once, not with its first event.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) res.flushHeaders();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      if (!res.write(value)) {
        let go!: () => void;
        const drained = new Promise<void>((resolve) => {
          go = resolve;
          res.on('drain', go);
          res.on('close', go);
        });
        try {
          await Promise.race([drained, failed]);
        } finally {
          res.off('drain', go);
          res.off('close', go);
        }
      }
    }
    if (!gone) res.end();
  } catch (error) {
    // The stream ended in error (e.g. a dropped slow SSE client): close the connection.
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    res.off('close', onClose);
  }
}

/**
 * Wraps `handler` for `http.createServer`.
 * @example
 * ```ts
 * http.createServer(toNodeHandler(createJobsHandler(engine, { authenticate }))).listen(4000);
 * ```
 */
export function toNodeHandler(handler: (request: Request) => Response | Promise<Response>): NodeRequestListener {
  return (req, res) => {
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    void (async () => {
      let response: Response;
      const { request, discard } = toRequest(req, controller.signal);
      // Whatever the handler did not read (a rejected body) is drained, not left to block the socket.
      res.once('finish', discard);
      try {
        response = await handler(request);
      } catch (error) {
        // The jobs handler answers its own errors; this is a last resort for other handlers.
        console.error('[jobwing/http] handler failed:', error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'Internal server error' } }));
        return;
      }
      await send(response, res);
    })().catch((error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error))));
  };
}
