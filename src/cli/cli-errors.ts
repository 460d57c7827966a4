/**
 * Exit statuses of the `jobwing` command (pinned by the contract) and the one error class
 * that means "bad usage" rather than "the operation failed".
 */

/** 0 success, 1 the operation failed, 2 the command line was wrong. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

/** The command line itself is wrong (exit status 2): a bad flag value, a flag that does not apply. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Where the CLI writes: the real streams in the binary, buffers in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}
