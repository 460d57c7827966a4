/**
 * Runs one command line and maps the outcome to the contract's exit statuses:
 * 0 success, 1 the operation failed, 2 bad usage. Messages go to stderr.
 */
import { CommanderError } from 'commander';
import { JobwingError } from '../index.js';
import { EXIT, UsageError, type CliIo } from './cli-errors.js';
import { buildProgram } from './program.js';

/** Runs `argv` (the arguments after `jobwing`) and resolves with the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    // Commander already printed its message (or the help / version asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n(add --help for usage)\n`);
      return EXIT.usage;
    }
    io.stderr.write(`error: ${describe(error)}\n`);
    return EXIT.error;
  }
}

/** The message of a failure, with the code of a jobwing error (NOT_FOUND, INVALID_STATE, …). */
function describe(error: unknown): string {
  if (error instanceof JobwingError) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
