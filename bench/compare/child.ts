/**
 * One measurement in its own process (spawned by run.ts, compiled first by build-child.ts):
 *   node .build/child.mjs --system NAME --workload W --jobs N --samples S --loc JSON
 * replies `{ type: 'result', output }` or `{ type: 'error', error }` over IPC, then exits.
 * `--role worker` is the worker process of the latency-2p workload (spawned by that workload).
 */
import { parseArgs } from 'node:util';
import type { StoreLocation } from './peer.js';
import { systemByName } from './systems/index.js';
import { measure, runLatencyWorker, WORKLOADS, type Workload } from './workloads.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'measure' },
      system: { type: 'string' },
      workload: { type: 'string' },
      jobs: { type: 'string', default: '10000' },
      samples: { type: 'string', default: '100' },
      loc: { type: 'string' },
    },
  });
  if (!process.send) throw new Error('child.ts must be spawned with an IPC channel');
  if (!values.system || !values.loc) throw new Error('child.ts needs --system and --loc');
  const system = await systemByName(values.system).load();
  const loc = JSON.parse(values.loc) as StoreLocation;
  if (values.role === 'worker') {
    await runLatencyWorker(system, loc);
    return;
  }
  const workload = values.workload as Workload;
  if (!WORKLOADS.includes(workload)) throw new Error(`unknown workload "${values.workload}"`);
  const output = await measure({ system, workload, jobs: Number(values.jobs), samples: Number(values.samples), loc });
  process.send!({ type: 'result', output }, () => process.disconnect?.());
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  if (process.send) process.send({ type: 'error', error: message }, () => process.exit(1));
  else {
    console.error(message);
    process.exit(1);
  }
});
