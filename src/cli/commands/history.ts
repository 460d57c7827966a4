/** `jobwing history <id>`: every state transition of a job, oldest first. */
import type { Command } from 'commander';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { formatInstant, formatTable, printJson } from '../format.js';
import { withSystemClient } from '../open-engine.js';

export function registerHistoryCommand(program: Command, io: CliIo): void {
  const cmd = program.command('history').description("a job's state transitions, oldest first").argument('<id>', 'the job id');
  addCommonOptions(cmd);
  cmd.action(async (id: string, flags: CommonFlags) => {
    const items = await withSystemClient(flags, io, (client) => client.history(id));
    if (flags.json) return printJson(io, { items });
    const rows = items.map((h) => [
      formatInstant(h.at),
      h.from ?? '-',
      h.to,
      h.attempt,
      h.actorId,
      h.error ? `${h.error.type}: ${h.error.message}` : h.message,
    ]);
    io.stdout.write(formatTable(['at', 'from', 'to', 'attempt', 'actor', 'message'], rows, 80));
  });
}
