/** `jobwing cleanup --older-than 30d`: deletes old finished jobs with their history. */
import type { Command } from 'commander';
import { duration } from '../arg-parsers.js';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { printJson } from '../format.js';
import { withSystemClient } from '../open-engine.js';
import { formatDuration } from '../parse-duration.js';

interface CleanupFlags extends CommonFlags {
  olderThan: number;
}

export function registerCleanupCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('cleanup')
    .description('delete completed, canceled and dead_letter jobs that finished before a cutoff, with their history')
    .requiredOption('--older-than <duration>', 'how long ago they finished: e.g. 30d, 12h, 1h30m, 90s', duration);
  addCommonOptions(cmd).addHelpText('after', '\nLive jobs (waiting, scheduled, queued, running, retrying) are never deleted.\n\nExample:\n  jobwing cleanup --db ./jobwing.sqlite --older-than 30d');
  cmd.action(async (flags: CleanupFlags) => {
    const deleted = await withSystemClient(flags, io, (client) => client.cleanup({ olderThanMs: flags.olderThan }));
    if (flags.json) return printJson(io, { deleted });
    io.stdout.write(`Deleted ${deleted} finished job${deleted === 1 ? '' : 's'} older than ${formatDuration(flags.olderThan)}.\n`);
  });
}
