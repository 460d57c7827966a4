/**
 * The Prometheus exposition, parsed by a real parser and checked against known data: store
 * gauges (counts by status, queue depth by priority), this engine's duration histogram and
 * failure counter, org families only on request and capped, admin only.
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJobType, JobEngine, PermanentError, prometheusText, PROMETHEUS_CONTENT_TYPE, sqliteStorage } from '../../src/index.js';
import { drain, FakeClock } from '../../src/testing/index.js';

const clock = new FakeClock();
/** Takes `ms` of (fake) time: its duration is exactly known. */
const work = defineJobType({
  name: 'work',
  input: z.object({ ms: z.number() }),
  dedupWindowMs: 0,
  async handler(input) {
    await clock.advance(input.ms);
    return null;
  },
});
const broken = defineJobType({
  name: 'broken',
  input: z.object({}),
  dedupWindowMs: 0,
  async handler() {
    throw new PermanentError('no');
  },
});
/** Only the web engine knows it: its jobs stay queued (the worker does not claim them). */
const other = defineJobType({ name: 'other', input: z.object({}), dedupWindowMs: 0, async handler() {} });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-prom-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'jobs.sqlite');
  const worker = new JobEngine({ jobTypes: [work, broken], storage: sqliteStorage({ path }), clock, concurrency: 1 }); // one at a time: exact durations
  const web = new JobEngine({ jobTypes: [work, broken, other], storage: sqliteStorage({ path }), clock, worker: false });
  await worker.start();
  await web.start();
  cleanups.push(() => worker.stop({ graceMs: 0 }), () => web.stop());
  const acme = worker.as({ userId: 'a', orgId: 'acme', permissions: [] });
  const globex = worker.as({ userId: 'g', orgId: 'globex', permissions: [] });
  await acme.submit('work', { ms: 20 });
  await acme.submit('work', { ms: 1500 });
  await acme.submit('broken', {});
  await globex.submit('work', { ms: 200 });
  await drain(worker);
  await web.system.submit('other', {}, { priority: 'high' });
  await web.system.submit('other', {}, { priority: 'low' });
  await web.system.submit('other', {}, { runAt: new Date(clock.now() + 3_600_000) });
  return { worker, web };
}

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no family ${name} in ${families.map((x) => x.name).join(', ')}`);
  return f;
}
/**
 * The samples of a labelled histogram, by type. The parser folds every labelled series of a
 * histogram family into one (it keeps only the buckets of the last series and drops _sum and
 * _count), so after the whole text parsed (syntax and TYPE checked), the family is parsed
 * again without its HELP/TYPE lines, where `_bucket`, `_sum` and `_count` come out as plain
 * labelled series.
 */
function histogramByType(text: string, name: string): Map<string, { buckets: Record<string, number>; sum: number; count: number }> {
  const untyped = text
    .split('\n')
    .filter((l) => !l.startsWith(`# HELP ${name} `) && !l.startsWith(`# TYPE ${name} `))
    .join('\n');
  const families = parsePrometheusTextFormat(untyped);
  const out = new Map<string, { buckets: Record<string, number>; sum: number; count: number }>();
  const entry = (type: string) => {
    let e = out.get(type);
    if (!e) out.set(type, (e = { buckets: {}, sum: NaN, count: NaN }));
    return e;
  };
  // Untyped, each run of one sample name is a "family" of its own: read every run.
  const samples = (suffix: string) => families.filter((f) => f.name === `${name}_${suffix}`).flatMap((f) => f.metrics);
  for (const m of samples('bucket')) entry(m.labels!.type!).buckets[m.labels!.le!] = Number(m.value);
  for (const m of samples('sum')) entry(m.labels!.type!).sum = Number(m.value);
  for (const m of samples('count')) entry(m.labels!.type!).count = Number(m.value);
  return out;
}

const valueOf = (f: ParsedFamily, labels: Record<string, string>) => {
  const s = f.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  expect(s, `${f.name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return Number(s[0]!.value);
};

describe('prometheusText', () => {
  it('exposes store gauges, the duration histogram and failures, checked against known data', async () => {
    const { worker } = await setup();
    const text = await prometheusText(worker.system);
    expect(PROMETHEUS_CONTENT_TYPE).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(text);

    const jobs = family(families, 'jobwing_jobs');
    expect(jobs.type).toBe('GAUGE');
    expect(valueOf(jobs, { status: 'completed' })).toBe(3);
    expect(valueOf(jobs, { status: 'dead_letter' })).toBe(1);
    expect(valueOf(jobs, { status: 'queued' })).toBe(2);
    expect(valueOf(jobs, { status: 'scheduled' })).toBe(1);
    expect(valueOf(jobs, { status: 'running' })).toBe(0);
    expect(jobs.metrics).toHaveLength(8);

    const depth = family(families, 'jobwing_queue_depth');
    expect(valueOf(depth, { priority: 'high' })).toBe(1);
    expect(valueOf(depth, { priority: 'low' })).toBe(1);
    expect(valueOf(depth, { priority: 'normal' })).toBe(0);
    expect(valueOf(depth, { priority: 'critical' })).toBe(0);
    expect(valueOf(family(families, 'jobwing_oldest_queued_job_age_seconds'), {})).toBe(0);

    const duration = family(families, 'jobwing_job_duration_seconds');
    expect(duration.type).toBe('HISTOGRAM');
    const hist = histogramByType(text, 'jobwing_job_duration_seconds');
    expect([...hist.keys()].sort()).toEqual(['broken', 'work']);
    const w = hist.get('work')!;
    expect(w.count).toBe(3);
    expect(w.sum).toBeCloseTo(1.72, 6);
    expect(w.buckets['0.01']).toBe(0);
    expect(w.buckets['0.025']).toBe(1); // 20 ms
    expect(w.buckets['0.1']).toBe(1);
    expect(w.buckets['0.25']).toBe(2); // 200 ms
    expect(w.buckets['1']).toBe(2);
    expect(w.buckets['2.5']).toBe(3); // 1.5 s
    expect(w.buckets['3600']).toBe(3);
    expect(w.buckets['+Inf']).toBe(3);
    expect(Object.keys(w.buckets)).toHaveLength(17);
    const b = hist.get('broken')!;
    expect(b).toMatchObject({ count: 1, sum: 0 });
    expect(b.buckets['0.005']).toBe(1);

    const failures = family(families, 'jobwing_job_failures_total');
    expect(failures.type).toBe('COUNTER');
    expect(valueOf(failures, { type: 'broken' })).toBe(1);
    expect(valueOf(failures, { type: 'work' })).toBe(0);

    // No job id anywhere; no org labels unless asked for.
    for (const id of (await worker.system.list({ limit: 100 })).items.map((j) => j.id)) expect(text).not.toContain(id);
    expect(families.some((f) => f.name.startsWith('jobwing_org_'))).toBe(false);
    expect(text).not.toMatch(/org="/);
  });

  it('the web process (worker: false) sees the same store gauges and zero attempt counters', async () => {
    const { web } = await setup();
    const text = await prometheusText(web.system);
    const families = parsePrometheusTextFormat(text);
    expect(valueOf(family(families, 'jobwing_jobs'), { status: 'completed' })).toBe(3);
    expect(valueOf(family(families, 'jobwing_job_failures_total'), { type: 'broken' })).toBe(0);
    const hist = histogramByType(text, 'jobwing_job_duration_seconds');
    expect([...hist.keys()].sort()).toEqual(['broken', 'other', 'work']);
    expect(hist.get('work')).toMatchObject({ count: 0, sum: 0 });
  });

  it('org labels only when asked, for the busiest orgs, capped by maxOrgs', async () => {
    const { worker } = await setup();
    const all = parsePrometheusTextFormat(await prometheusText(worker.system, { orgLabels: true }));
    const orgJobs = family(all, 'jobwing_org_jobs');
    expect(valueOf(orgJobs, { org: 'acme', status: 'completed' })).toBe(2);
    expect(valueOf(orgJobs, { org: 'acme', status: 'dead_letter' })).toBe(1);
    expect(valueOf(orgJobs, { org: 'globex', status: 'completed' })).toBe(1);
    expect(valueOf(family(all, 'jobwing_org_job_failures_total'), { org: 'acme', type: 'broken' })).toBe(1);
    expect(valueOf(family(all, 'jobwing_org_job_failures_total'), { org: 'globex', type: 'broken' })).toBe(0);
    // The totals keep their meaning with org families present.
    expect(valueOf(family(all, 'jobwing_jobs'), { status: 'completed' })).toBe(3);

    const capped = parsePrometheusTextFormat(await prometheusText(worker.system, { orgLabels: true, maxOrgs: 1 }));
    const orgs = new Set(family(capped, 'jobwing_org_jobs').metrics.map((m) => m.labels?.org));
    expect([...orgs]).toEqual(['acme']); // the busiest
    expect(new Set(family(capped, 'jobwing_org_queue_depth').metrics.map((m) => m.labels?.org))).toEqual(new Set(['acme']));
  });

  it('admin only, and bad options are named', async () => {
    const { worker } = await setup();
    await expect(prometheusText(worker.as({ userId: 'a', orgId: 'acme', permissions: [] }))).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(prometheusText(worker.system, { maxOrgs: 0 })).rejects.toThrow(/maxOrgs/);
    await expect(prometheusText(worker.system, { orgLabels: 'yes' } as never)).rejects.toThrow(/orgLabels/);
    await expect(prometheusText({} as never)).rejects.toThrow(/needs a JobClient/);
    const admin = worker.as({ userId: 'root', orgId: 'acme', permissions: [], admin: true });
    expect(await prometheusText(admin)).toContain('# TYPE jobwing_jobs gauge');
  });

  it('escapes label values (an org id is user text)', async () => {
    const engine = new JobEngine({ jobTypes: [work], storage: sqliteStorage({ path: ':memory:' }), clock: new FakeClock() });
    await engine.start();
    cleanups.push(() => engine.stop());
    const odd = 'we"ird\\org\nx';
    await engine.as({ userId: 'u', orgId: odd, permissions: [] }).submit('work', { ms: 0 });
    const families = parsePrometheusTextFormat(await prometheusText(engine.system, { orgLabels: true }));
    expect(new Set(family(families, 'jobwing_org_jobs').metrics.map((m) => m.labels?.org))).toEqual(new Set([odd]));
  });
});
