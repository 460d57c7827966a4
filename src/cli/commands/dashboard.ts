/**
 * `jobwing dashboard`: the dashboard and the HTTP API of a store, acting as the admin
 * `system`, on 127.0.0.1 unless told otherwise (anyone who can reach it acts as admin).
 * Runs until SIGINT / SIGTERM, then closes connections and stops the engine; a second
 * Ctrl+C kills it at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { createJobsHandler, toNodeHandler } from '../../http/index.js';
import { JobwingError } from '../../index.js';
import { intIn } from '../arg-parsers.js';
import type { CliIo } from '../cli-errors.js';
import { addCommonOptions, type CommonFlags } from '../common-options.js';
import { cliEngine, describeDb, openStorage } from '../open-engine.js';

interface DashboardFlags extends CommonFlags {
  port: number;
  host: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function registerDashboardCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('dashboard')
    .description('serve the dashboard and the HTTP API of the store, acting as the admin "system"')
    .option('--port <port>', 'TCP port to listen on (0: any free port)', intIn(0, 65_535), 4000)
    .option('--host <address>', 'address to listen on; anything but localhost lets others act as admin', '127.0.0.1');
  addCommonOptions(cmd, { json: false }).addHelpText('after', '\nExample:\n  jobwing dashboard --db ./jobwing.sqlite --port 4000\n  then open http://127.0.0.1:4000/ (the API is under the same address, e.g. /jobs, /openapi.json)');
  cmd.action(async (flags: DashboardFlags) => {
    // A long-running reader: the default lease, so maintenance ticks at the usual pace.
    const engine = cliEngine(await openStorage(flags));
    engine.on('engine:error', ({ error, source }) => io.stderr.write(`warning: ${source}: ${(error as Error)?.message ?? String(error)}\n`));
    try {
      await engine.start();
    } catch (e) {
      await engine.stop({ graceMs: 0 }).catch(() => undefined);
      throw new JobwingError('STORAGE', `Cannot open ${describeDb(flags.db)}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    const handler = createJobsHandler(engine, {
      authenticate: () => engine.system,
      onError: (error) => io.stderr.write(`error: ${(error as Error)?.stack ?? String(error)}\n`),
    });
    const server = createServer(toNodeHandler(handler));
    let address: AddressInfo;
    try {
      address = await listen(server, flags.port, flags.host);
    } catch (e) {
      await engine.stop({ graceMs: 0 }).catch(() => undefined);
      throw new Error(`Cannot listen on ${flags.host}:${flags.port}: ${(e as Error).message}`);
    }
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    io.stdout.write(`jobwing dashboard on http://${shown}:${address.port}/ for ${describeDb(flags.db)} (Ctrl+C stops it)\n`);
    if (!LOOPBACK.has(flags.host)) io.stderr.write(`warning: listening on ${flags.host}: everyone who can reach it acts as the admin "system"\n`);
    await untilSignal();
    // Open event streams never end on their own: close them, then the store.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await engine.stop();
    io.stdout.write('jobwing dashboard stopped\n');
  });
}
