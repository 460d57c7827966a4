/** Every `jobwing` command, in the order `--help` lists them. */
import type { Command } from 'commander';
import type { CliIo } from '../cli-errors.js';
import { registerCancelCommand } from './cancel.js';
import { registerCleanupCommand } from './cleanup.js';
import { registerDashboardCommand } from './dashboard.js';
import { registerExplainCommand } from './explain.js';
import { registerHistoryCommand } from './history.js';
import { registerListCommand } from './list.js';
import { registerRetryCommand } from './retry.js';
import { registerShowCommand } from './show.js';
import { registerStatsCommand } from './stats.js';

export const COMMANDS: readonly ((program: Command, io: CliIo) => void)[] = [
  registerDashboardCommand,
  registerStatsCommand,
  registerListCommand,
  registerShowCommand,
  registerHistoryCommand,
  registerExplainCommand,
  registerRetryCommand,
  registerCancelCommand,
  registerCleanupCommand,
];
