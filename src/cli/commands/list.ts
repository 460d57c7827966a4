/** `jobwing list`: jobs newest first, filtered, one page at a time. */
import type { Command } from 'commander';
import type { JobStatus, ListOptions } from '../../index.js';
import { collect, collectStatuses, intIn } from '../arg-parsers.js';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { formatInstant, formatTable, printJson } from '../format.js';
import { withSystemClient } from '../open-engine.js';

interface ListFlags extends CommonFlags {
  status?: JobStatus[];
  type?: string[];
  org?: string;
  owner?: string;
  limit: number;
  cursor?: string;
}

export function registerListCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('list')
    .description('list jobs, newest first')
    .option('--status <status>', 'only jobs in this status; repeat or comma-separate for several', collectStatuses)
    .option('--type <type>', 'only jobs of this type; repeat or comma-separate for several', collect)
    .option('--org <orgId>', 'only jobs of this organization')
    .option('--owner <userId>', 'only jobs submitted by this user')
    .option('--limit <n>', 'jobs per page, 1 to 500', intIn(1, 500), 50)
    .option('--cursor <cursor>', 'the next page: the cursor printed after the previous one');
  addCommonOptions(cmd).addHelpText(
    'after',
    '\nExamples:\n  jobwing list --db ./jobwing.sqlite --status dead_letter\n  jobwing list --db postgres://localhost/app --type send-report --org acme --limit 100 --json',
  );
  cmd.action(async (flags: ListFlags) => {
    const options: ListOptions = { limit: flags.limit };
    if (flags.status) options.status = flags.status;
    if (flags.type) options.type = flags.type;
    if (flags.org !== undefined) options.orgId = flags.org;
    if (flags.owner !== undefined) options.ownerId = flags.owner;
    if (flags.cursor !== undefined) options.cursor = flags.cursor;
    const page = await withSystemClient(flags, io, (client) => client.list(options));
    if (flags.json) return printJson(io, page);
    if (page.items.length === 0) {
      io.stdout.write('No jobs match.\n');
      return;
    }
    const rows = page.items.map((j) => [j.id, j.type, j.orgId, j.status, j.priority, `${j.progress}%`, `${j.retryCount}/${j.maxRetries}`, formatInstant(j.createdAt)]);
    io.stdout.write(formatTable(['id', 'type', 'org', 'status', 'priority', 'progress', 'retries', 'created'], rows, 100));
    if (page.nextCursor) io.stdout.write(`\nMore jobs: add --cursor ${page.nextCursor}\n`);
  });
}
