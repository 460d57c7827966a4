/** `jobwing stats`: counts, queue depth, processing times and failure rates (the store's metrics). */
import type { Command } from 'commander';
import { JOB_STATUSES, PRIORITIES, type Metrics, type MetricsOptions } from '../../index.js';
import { instant } from '../arg-parsers.js';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { formatInstant, formatMs, formatTable, printJson } from '../format.js';
import { withSystemClient } from '../open-engine.js';

interface StatsFlags extends CommonFlags {
  since?: Date;
  org?: string;
}

/** The metrics as a few small tables. */
export function formatMetrics(m: Metrics, since: Date): string {
  const out: string[] = [];
  out.push(formatTable(['status', 'jobs'], JOB_STATUSES.map((s) => [s, m.countsByStatus[s] ?? 0])));
  out.push(formatTable(['priority', 'queued'], PRIORITIES.map((p) => [p, m.queueDepthByPriority[p] ?? 0])));
  out.push(`Oldest queued job: ${m.oldestQueuedAgeMs === null ? 'none queued' : `${formatMs(m.oldestQueuedAgeMs)} old`}\n`);
  const pt = m.processingTime;
  out.push(`Since ${formatInstant(since)}: ${pt.count} completed, processing time avg ${formatMs(pt.avgMs)}, p95 ${formatMs(pt.p95Ms)}\n`);
  const types = [...new Set([...Object.keys(m.failureRateByType), ...Object.keys(m.processingTimeByType)])].sort();
  if (types.length > 0) {
    const rows = types.map((t) => {
      const f = m.failureRateByType[t];
      const p = m.processingTimeByType[t];
      return [t, f?.completed ?? 0, f?.failed ?? 0, f ? `${(f.rate * 100).toFixed(1)}%` : '-', formatMs(p?.avgMs), formatMs(p?.p95Ms)];
    });
    out.push(formatTable(['type', 'completed', 'failed', 'failure rate', 'avg', 'p95'], rows));
  }
  return out.join('\n');
}

export function registerStatsCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('stats')
    .description('job counts by status, queue depth by priority, processing time and failure rate per type')
    .option('--since <when>', 'window of processing times and failure rates: a duration back from now (24h, 7d) or an ISO date (default: 24h)', instant)
    .option('--org <orgId>', 'one organization only (default: all)');
  addCommonOptions(cmd);
  cmd.action(async (flags: StatsFlags) => {
    const since = flags.since ?? new Date(Date.now() - 86_400_000);
    const options: MetricsOptions = { since };
    if (flags.org !== undefined) options.orgId = flags.org;
    const metrics = await withSystemClient(flags, io, (client) => client.metrics(options));
    if (flags.json) return printJson(io, metrics);
    io.stdout.write(formatMetrics(metrics, since));
  });
}
