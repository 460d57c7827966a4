/** The flags every command takes: where the store is, and the output format. */
import { Option, type Command } from 'commander';
import type { StoreFlags } from './open-engine.js';

/** Parsed common flags. */
export interface CommonFlags extends StoreFlags {
  json?: boolean;
}

/** Adds `--db`, `--schema` and `--json` to `cmd`. */
export function addCommonOptions(cmd: Command, { json = true }: { json?: boolean } = {}): Command {
  cmd.addOption(
    new Option('--db <path|url>', 'the store: a SQLite file path or a postgres:// URL').env('JOBWING_DB').makeOptionMandatory(),
  );
  cmd.option('--schema <name>', 'Postgres schema of the jobwing tables (default: jobwing)');
  if (json) cmd.option('--json', 'print JSON for scripts instead of a table');
  return cmd;
}
