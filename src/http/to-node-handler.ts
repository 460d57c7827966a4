/**
 * `toNodeHandler`: runs a web-standard handler on `node:http` (and frameworks built on it,
 * e.g. Express). Request bodies stream in; response bodies stream out honouring the socket's
 * backpressure (a write that returns false waits for 'drain' before reading the next chunk),
 * so a slow client slows its own stream instead of growing memory. A client that goes away
 * aborts the request's signal and cancels the response stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** A `node:http` request listener. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
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
  if (hasBody) {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(url, init);
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
  let gone = false;
  const onClose = () => {
    gone = true;
    reader.cancel().catch(() => undefined);
  };
  res.once('close', onClose);
  // Stream responses (SSE) need their headers and first bytes out at once.
  res.flushHeaders();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
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
      try {
        response = await handler(toRequest(req, controller.signal));
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
