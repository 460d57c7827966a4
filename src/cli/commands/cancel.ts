/** `jobwing cancel <id>`: cancels a live job; a running handler is aborted. */
import type { Command } from 'commander';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { printJson } from '../format.js';
import { withSystemClient } from '../open-engine.js';

export function registerCancelCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('cancel')
    .description('cancel a waiting, scheduled, queued, retrying or running job (its waiting dependents too)')
    .argument('<id>', 'the job id');
  addCommonOptions(cmd).addHelpText('after', '\nA running job\'s handler sees its signal abort with reason "canceled" within one lease heartbeat.');
  cmd.action(async (id: string, flags: CommonFlags) => {
    const job = await withSystemClient(flags, io, (client) => client.cancel(id));
    if (flags.json) return printJson(io, job);
    io.stdout.write(`Job ${job.id} (${job.type}) is ${job.status}.\n`);
  });
}
