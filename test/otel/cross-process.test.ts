/**
 * The send → process link across processes: a web process (`worker: false`) submits inside a
 * request span; a worker child process runs the job. The child's process span must be a child
 * of, and linked to, the send span the web process recorded: the context travels in the
 * job's `trace_context` column, on SQLite and (with JOBWING_TEST_PG_URL) Postgres.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { JobEngine, sqliteStorage, type StorageAdapter } from '../../src/index.js';
import { instrumentEngine } from '../../src/otel/index.js';
import { postgresStorage } from '../../src/postgres.js';
import { PG_URL } from '../helpers/stores.js';
import pg from 'pg';
import type { OtelWorkerConfig, ReportedSpan } from './fixtures/otel-worker.js';
import { TRACED_TYPES } from './fixtures/traced-types.js';
import { otelKit } from './otel-kit.js';
import { scriptArgs } from '../helpers/script-bundle.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKER = join(ROOT, 'test', 'otel', 'fixtures', 'otel-worker.ts');

/** Runs the worker child to completion; resolves with the spans it reports. */
function runWorker(config: OtelWorkerConfig): Promise<ReportedSpan[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...scriptArgs(WORKER), JSON.stringify(config)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${err}`));
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ReportedSpan[]);
      } catch {
        reject(new Error(`worker printed no spans: ${out} ${err}`));
      }
    });
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Store = { name: string; skip: string; make(): { adapter: () => StorageAdapter; config: OtelWorkerConfig['store'] } };

const stores: Store[] = [
  {
    name: 'sqlite',
    skip: '',
    make() {
      const dir = mkdtempSync(join(tmpdir(), 'jobwing-otel-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, 'jobs.sqlite');
      return { adapter: () => sqliteStorage({ path }), config: { kind: 'sqlite', path } };
    },
  },
  {
    name: 'postgres',
    skip: PG_URL ? '' : ' (skipped: set JOBWING_TEST_PG_URL to run it)',
    make() {
      const schema = `jobwing_otel_${randomBytes(5).toString('hex')}`;
      cleanups.push(async () => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => c.end());
      });
      return { adapter: () => postgresStorage({ connectionString: PG_URL!, schema, poolSize: 2 }), config: { kind: 'postgres', url: PG_URL!, schema } };
    },
  },
];
if (!PG_URL) console.warn('[jobwing] Postgres variant of the cross-process trace test SKIPPED: set JOBWING_TEST_PG_URL to run it.');

describe('jobwing/otel across processes', () => {
  for (const store of stores) {
    (store.skip ? it.skip : it)(`web process submits, worker process runs: one trace, process span linked to send span (${store.name})${store.skip}`, { timeout: 90_000 }, async () => {
      const { adapter, config } = store.make();
      const kit = otelKit();
      const web = new JobEngine({ jobTypes: TRACED_TYPES, storage: adapter(), worker: false });
      instrumentEngine(web, { tracerProvider: kit.tracerProvider, meterProvider: kit.meterProvider });
      await web.start();
      cleanups.push(() => web.stop());
      const job = await trace.getTracer('web').startActiveSpan('POST /reports', async (request) => {
        const j = await web.as({ userId: 'u1', orgId: 'acme', permissions: [] }).submit('traced', { n: 5 });
        request.end();
        return j;
      });
      const request = kit.spans().find((s) => s.name === 'POST /reports')!;
      const send = kit.spans().find((s) => s.name === 'send traced')!;
      expect(send.parentSpanContext?.spanId).toBe(request.spanContext().spanId);

      const workerSpans = await runWorker({ store: config, jobId: job.id });
      expect((await web.system.get(job.id)).status).toBe('completed');
      expect(workerSpans.some((s) => s.name.startsWith('send '))).toBe(false); // the worker sent nothing
      const process = workerSpans.find((s) => s.name === 'process traced');
      expect(process).toBeDefined();
      expect(process!.kind).toBe(SpanKind.CONSUMER);
      expect(process!.attributes).toMatchObject({ 'messaging.message.id': job.id, 'jobwing.org_id': 'acme', 'jobwing.attempt': 1 });
      expect(process!.links).toEqual([{ traceId: send.spanContext().traceId, spanId: send.spanContext().spanId }]);
      expect(process!.parentSpanId).toBe(send.spanContext().spanId);
      expect(process!.traceId).toBe(request.spanContext().traceId);
      const work = workerSpans.find((s) => s.name === 'handler work');
      expect(work?.parentSpanId).toBe(process!.spanId);
    });
  }
});
