// `npm run chaos`: the fault-injection suite (bench/chaos/README.md). Each fault runs the real
// bin/qless-worker against its own private redis-server, with jobs put by the client, injects
// its fault, and accounts for every job. Progress goes to stderr, the figures to stdout; the exit
// code is 1 if any fault failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentLoad } from '../machine.ts';
import { measuredRevision } from '../revision.ts';
import type { Fault } from './fault.ts';
import { FaultRun, type FaultResult } from './fault-run.ts';
import { poison } from './faults/poison.ts';
import { redisFreeze } from './faults/redis-freeze.ts';
import { redisRestart } from './faults/redis-restart.ts';
import { soak } from './faults/soak.ts';
import { supervisorKill } from './faults/supervisor-kill.ts';
import { termUnderLoad } from './faults/term-under-load.ts';
import { workerKills } from './faults/worker-kills.ts';
import { formatFault, formatSummary } from './report.ts';
import { GRACE_PERIOD_S, HEARTBEAT_S } from './settings.ts';

const FAULTS: Fault[] = [workerKills, supervisorKill, termUnderLoad, redisRestart, redisFreeze, poison, soak];

const USAGE = `usage: npm run chaos [-- --only <fault,…>] [--keep]
faults: ${FAULTS.map((fault) => fault.name).join(', ')}
--keep  keep the run's directory (pool logs, Redis logs, run records); it is always kept when a fault fails`;

interface ChaosOptions {
  faults: Fault[];
  keep: boolean;
}

function parseOptions(argv: string[]): ChaosOptions {
  const options: ChaosOptions = { faults: FAULTS, keep: false };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--keep') options.keep = true;
    else if (arg === '--only' && argv[index + 1] !== undefined) {
      const names = argv[++index].split(',');
      const unknown = names.filter((name) => !FAULTS.some((fault) => fault.name === name));
      if (unknown.length > 0) throw new Error(`unknown fault ${unknown.join(', ')}\n${USAGE}`);
      options.faults = FAULTS.filter((fault) => names.includes(fault.name));
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return options;
}

async function runFault(fault: Fault, dir: string, progress: (line: string) => void): Promise<FaultResult> {
  const run = await FaultRun.open(fault.name, dir, progress, { appendonly: fault.appendonly });
  try {
    return await fault.run(run);
  } finally {
    await run.close();
  }
}

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'qless-chaos-'));
  const revision = measuredRevision();
  const startedAt = Date.now();
  process.stdout.write(
    `chaos: commit ${revision.commit}${revision.dirty ? ' (with uncommitted changes in src/ or bin/)' : ''}, ` +
      `qless heartbeat ${HEARTBEAT_S} s, grace-period ${GRACE_PERIOD_S} s, ` +
      `load average ${currentLoad().toFixed(2)}\n\n`,
  );
  const results: FaultResult[] = [];
  let crashed = false;
  try {
    for (const fault of options.faults) {
      const result = await runFault(fault, dir, progress);
      results.push(result);
      process.stdout.write(`${formatFault(result)}\n\n`);
    }
  } catch (error) {
    crashed = true;
    process.stderr.write(`chaos: the suite itself failed: ${(error as Error).stack ?? String(error)}\n`);
  }
  const passed = !crashed && results.every((result) => result.passed);
  if (results.length > 0) process.stdout.write(`${formatSummary(results)}\n\n`);
  process.stdout.write(
    `chaos: ${passed ? 'PASS' : 'FAIL'} in ${((Date.now() - startedAt) / 1000).toFixed(0)} s, ` +
      `load average ${currentLoad().toFixed(2)} at the end\n`,
  );
  if (options.keep || !passed) progress(`chaos: files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  return passed ? 0 : 1;
}

// Ctrl-C or a TERM: exit through process.exit so the pools and redis-servers are killed on the way.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

process.exitCode = await main();
