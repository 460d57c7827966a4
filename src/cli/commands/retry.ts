/** `jobwing retry <id>`: a dead_letter or canceled job back to queued, retries reset. */
import type { Command } from 'commander';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { printJson } from '../format.js';
import { withSystemClient } from '../open-engine.js';

export function registerRetryCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('retry')
    .description('put a dead_letter or canceled job back in the queue, with its retries reset')
    .argument('<id>', 'the job id');
  addCommonOptions(cmd);
  cmd.action(async (id: string, flags: CommonFlags) => {
    const job = await withSystemClient(flags, io, (client) => client.retry(id));
    if (flags.json) return printJson(io, job);
    io.stdout.write(`Job ${job.id} (${job.type}) is ${job.status} again.\n`);
  });
}
