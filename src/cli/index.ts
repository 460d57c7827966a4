#!/usr/bin/env node
/**
 * The `jobwing` binary. No process.exit: the exit status is set and the process ends when the
 * engine has stopped and the output is flushed, so nothing is cut short.
 */
import { runCli } from './run-cli.js';

// `jobwing list | head -1`: the reader went away; that is not a crash worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
