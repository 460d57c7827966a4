/** The isolation thread died mid-attempt (crash, out of memory, `process.exit`). Stored as error type 'crashed'. */
export class WorkerCrashedError extends Error {
  /** The thread's exit code, when it exited. */
  readonly exitCode: number | null;
  constructor(message: string, exitCode: number | null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkerCrashedError';
    this.exitCode = exitCode;
  }
}
