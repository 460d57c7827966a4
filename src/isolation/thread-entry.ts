/**
 * Runs inside an isolation worker thread: imports the job type's handler module, runs one job
 * at a time on `start`, and relays progress and checkpoint saves to the main thread, which
 * owns the store. Shipped as its own file (dist/isolation/thread-entry.js).
 */
import { parentPort } from 'node:worker_threads';
import { serializeThrown, type FromThread, type SerializedError, type ThreadJobInfo, type ToThread } from './protocol.js';

type Handler = (input: unknown, ctx: unknown) => Promise<unknown>;

const port = parentPort;
if (!port) throw new Error('jobwing: the isolation thread entry must run in a worker thread');

const handlers = new Map<string, Promise<Handler>>();
const pending = new Map<number, { resolve(v: { checkpoint?: unknown }): void; reject(e: unknown): void }>();
let nextReq = 1;
let controller: AbortController | null = null;

/** Error rebuilt from the main thread's answer (e.g. a checkpoint that failed validation). */
class RemoteError extends Error {
  constructor(e: SerializedError) {
    super(e.message);
    this.name = e.name;
    Object.assign(this, e.props);
  }
}

function send(msg: FromThread): void {
  port!.postMessage(msg);
}

function request(msg: { t: 'progress'; percent: unknown; message: unknown } | { t: 'checkpoint'; value: unknown }): Promise<{ checkpoint?: unknown }> {
  const req = nextReq++;
  return new Promise((resolve, reject) => {
    pending.set(req, { resolve, reject });
    try {
      send({ ...msg, req });
    } catch (error) {
      // DataCloneError: the value cannot cross the boundary (a function, a class instance with
      // private state…); the same call would fail JSON storage in-process too.
      pending.delete(req);
      reject(error);
    }
  });
}

async function loadHandler(href: string): Promise<Handler> {
  if (/\.[cm]?tsx?$/i.test(new URL(href).pathname) && !(globalThis as { __jobwingTsx?: boolean }).__jobwingTsx) {
    // A TypeScript handler module (an app run with tsx): register tsx in this thread too.
    const spec = 'tsx/esm/api';
    const api = (await import(spec).catch(() => {
      throw new Error(`The isolation module ${href} is TypeScript; install tsx (npm i -D tsx) or point isolation.module at built JavaScript`);
    })) as { register(): void };
    api.register();
    (globalThis as { __jobwingTsx?: boolean }).__jobwingTsx = true;
  }
  const mod = (await import(href)) as { handler?: unknown; default?: { handler?: unknown } };
  const handler = typeof mod.handler === 'function' ? mod.handler : mod.default?.handler;
  if (typeof handler !== 'function') {
    const error = new Error(`The isolation module ${href} does not export a function named "handler"`);
    error.name = 'IsolationModuleError';
    throw error;
  }
  return handler as Handler;
}

async function run(msg: Extract<ToThread, { t: 'start' }>): Promise<void> {
  controller = new AbortController();
  let checkpoint = msg.checkpoint;
  const job: ThreadJobInfo = msg.job;
  const ctx = {
    job,
    get checkpoint() {
      return checkpoint;
    },
    progress: async (percent: number, message?: string) => {
      await request({ t: 'progress', percent, message });
    },
    saveCheckpoint: async (value: unknown) => {
      const ack = await request({ t: 'checkpoint', value });
      checkpoint = ack.checkpoint;
    },
    signal: controller.signal,
  };
  let handlerPromise = handlers.get(msg.module);
  if (!handlerPromise) {
    handlerPromise = loadHandler(msg.module);
    handlers.set(msg.module, handlerPromise);
    handlerPromise.catch(() => handlers.delete(msg.module)); // a failed load is retried next job
  }
  let out: FromThread;
  try {
    const handler = await handlerPromise;
    const value = await handler(msg.input, ctx);
    out = { t: 'result', value };
  } catch (error) {
    const serialized = serializeThrown(error);
    // A broken module is a code bug: retrying the same code cannot help.
    if (serialized.name === 'IsolationModuleError') serialized.marker = 'permanent';
    out = { t: 'error', error: serialized };
  }
  controller = null;
  try {
    send(out);
  } catch (error) {
    const serialized = serializeThrown(error);
    serialized.message = `The handler's result cannot leave the worker thread: ${serialized.message}`;
    serialized.marker = 'permanent';
    send({ t: 'error', error: serialized });
  }
}

port.on('message', (msg: ToThread) => {
  switch (msg.t) {
    case 'start':
      void run(msg);
      return;
    case 'abort':
      controller?.abort(msg.reason);
      return;
    case 'ack': {
      const p = pending.get(msg.req);
      if (!p) return;
      pending.delete(msg.req);
      if (msg.ok) p.resolve({ checkpoint: msg.checkpoint });
      else p.reject(new RemoteError(msg.error));
      return;
    }
  }
});
