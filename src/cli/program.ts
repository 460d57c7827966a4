/**
 * The `jobwing` command line, built with commander: per-command `--help`, typed flag parsers,
 * suggestions for misspelt commands. Output goes through `io` so tests can capture it.
 */
import { Command } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import type { CliIo } from './cli-errors.js';
import { COMMANDS } from './commands/index.js';

/** The program, ready for `parseAsync`. Commander errors are thrown (see run-cli.ts), never exit. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('jobwing')
    .description('Inspect and operate a jobwing job store (SQLite file or Postgres) from the shell.')
    .version(pkg.version, '-v, --version', 'print the jobwing version')
    .helpOption('-h, --help', 'show help (also: jobwing <command> --help)')
    // Every subcommand created below inherits these settings.
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError();
  for (const register of COMMANDS) register(program, io);
  program.addHelpText(
    'after',
    [
      '',
      'Every command takes --db <sqlite file | postgres:// URL> (or the JOBWING_DB environment',
      'variable) and --schema <name> for a Postgres schema other than "jobwing". It acts as the',
      'admin "system": it sees every organization.',
      '',
      'Exit status: 0 success, 1 the operation failed (message on stderr), 2 bad usage.',
      '',
      'Examples:',
      '  jobwing stats --db ./jobwing.sqlite',
      '  jobwing list --db ./jobwing.sqlite --status dead_letter --json',
      '  jobwing retry 0192f4c2-… --db postgres://app@db:5432/app',
      '  jobwing cleanup --db ./jobwing.sqlite --older-than 30d',
    ].join('\n'),
  );
  return program;
}
