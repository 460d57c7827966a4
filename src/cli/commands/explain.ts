/** `jobwing explain <id>`: why a job is (not) running, in one sentence. */
import type { Command } from 'commander';
import { JobwingError, type JobClient } from '../../index.js';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { formatInstant, printJson } from '../format.js';
import { withSystemClient } from '../open-engine.js';

/** The contract's `client.explain(id)` result. */
interface Explanation {
  jobId: string;
  status: string;
  reason: string;
  detail: string;
  since: Date;
}

type Explainer = { explain(id: string): Promise<Explanation> };

/**
 * `client.explain`, which the flow-control work adds to the client; until it is there the
 * command says so instead of failing obscurely.
 */
function explainOf(client: JobClient): Explainer['explain'] {
  const explain = (client as unknown as Partial<Explainer>).explain;
  if (typeof explain !== 'function') throw new JobwingError('INVALID_STATE', 'explain is not available: this build of jobwing has no client.explain()');
  return explain.bind(client);
}

export function registerExplainCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('explain')
    .description('why a job is not running (waiting on a parent, scheduled, rate limited, paused, …)')
    .argument('<id>', 'the job id');
  addCommonOptions(cmd);
  cmd.action(async (id: string, flags: CommonFlags) => {
    const result = await withSystemClient(flags, io, (client) => explainOf(client)(id));
    if (flags.json) return printJson(io, result);
    io.stdout.write(`${result.jobId}: ${result.status}, ${result.reason} since ${formatInstant(result.since)}\n${result.detail}\n`);
  });
}
