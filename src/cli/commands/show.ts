/** `jobwing show <id>`: one job, every field. */
import type { Command } from 'commander';
import type { Job } from '../../index.js';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { formatFields, formatInstant, formatMs, printJson } from '../format.js';
import { withSystemClient } from '../open-engine.js';

/** The job as `label: value` lines, in the order an operator reads them. */
export function formatJob(j: Job): string {
  return formatFields([
    ['id', j.id],
    ['type', j.type],
    ['status', j.status],
    ['org', j.orgId],
    ['owner', j.ownerId],
    ['priority', j.priority],
    ['progress', `${j.progress}%${j.progressMessage ? ` ${j.progressMessage}` : ''}`],
    ['retries', `${j.retryCount} of ${j.maxRetries}`],
    ['timeout', formatMs(j.timeoutMs)],
    ['error', j.error ? `${j.error.type}: ${j.error.message}` : null],
    ['created', j.createdAt],
    ['run at', j.runAt],
    ['next retry', j.nextRetryAt],
    ['started', j.startedAt],
    ['completed', j.completedAt],
    ['canceled', j.canceledAt ? `${formatInstant(j.canceledAt)} by ${j.canceledBy ?? '?'}` : null],
    ['updated', j.updatedAt],
    ['depends on', j.dependsOn.length ? j.dependsOn.join(', ') : null],
    ['input', j.input],
    ['output', j.output],
    ['checkpoint', j.checkpoint],
  ]);
}

export function registerShowCommand(program: Command, io: CliIo): void {
  const cmd = program.command('show').description('show one job: status, progress, error, input, output, checkpoint').argument('<id>', 'the job id');
  addCommonOptions(cmd);
  cmd.action(async (id: string, flags: CommonFlags) => {
    const job = await withSystemClient(flags, io, (client) => client.get(id));
    if (flags.json) return printJson(io, job);
    io.stdout.write(formatJob(job));
  });
}
