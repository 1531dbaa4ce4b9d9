// Worker processes that bin/qless-worker starts before its own modules load, so that a worker's
// start (Node, its bundle: about a quarter of a second) runs beside the supervisor's instead of
// after it. Each is the process the supervisor would fork (src/worker/worker-entry.cjs, the same
// Node flags, environment and stdout), waiting for its config; the supervisor takes one for each
// slot it starts (src/supervisor/worker-launch.ts, takeSpareWorker) and forks as usual when none
// fits: a spare is used only if its flags, stdout and environment are still exactly what a fork
// would get. Spares left over (fewer workers than guessed, a refused option, --help) are killed
// when the supervisor has started its workers or exits; a spare whose parent is gone exits by itself.
// The number of workers is read from the command line as yargs will (-w N, --workers N,
// --workers=N, else QLESS_WORKERS, else the CPUs); nothing is started for --help or --version,
// when the workers' bundle is not built yet (the first start after an edit: the supervisor builds
// it), or with QLESS_WORKER_NO_SPARES=1. Plain JavaScript: it runs before any
// TypeScript machinery.
'use strict';
const { fork } = require('node:child_process');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');

/** Where the supervisor looks for them (a registry shared without importing this file). */
const REGISTRY = Symbol.for('qless-worker.spare-workers');
const ENTRY = join(__dirname, '..', 'worker', 'worker-entry.cjs');
/** More would be started for nothing on most machines; the supervisor forks the rest. */
const MOST = 16;
/** Sparkplug is on by default only where V8 builds it (src/protocol/v8-flags.ts). */
const SPARKPLUG = process.arch === 'x64' || process.arch === 'arm64';

/**
 * The Node flags src/supervisor/worker-launch.ts gives a worker (written out here: this runs before
 * TypeScript can load; the supervisor uses a spare only if they are still the same).
 */
function workerExecArgv(nodeOptions = '') {
  const compilerFlags = /--(no-)?(turbofan|opt|sparkplug|optimize[-_]for[-_]size|lite[-_]mode|jitless)\b/;
  return [
    ...(nodeOptions.includes('semi-space-size') ? [] : ['--max-semi-space-size=1']),
    ...(compilerFlags.test(nodeOptions)
      ? []
      : ['--no-turbofan', '--optimize-for-size', ...(SPARKPLUG ? ['--no-sparkplug'] : [])]),
  ];
}

/** The number of workers the command line asks for, or undefined when it cannot be told. */
function workersWanted(argv, env) {
  let given;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    if (arg === '--help' || arg === '-h' || arg === '--version') return undefined;
    if (arg === '-w' || arg === '--workers') given = argv[++i];
    else if (arg.startsWith('--workers=')) given = arg.slice('--workers='.length);
    else if (/^-w=?\d+$/.test(arg)) given = arg.replace(/^-w=?/, '');
  }
  given ??= env.QLESS_WORKERS;
  if (given === undefined) return availableParallelism();
  if (!/^\d+$/.test(given)) return undefined;
  const count = Number(given);
  return count === 0 ? availableParallelism() : count;
}

/** JSON logs (the workers share the supervisor's stdout) unless pretty ones are asked for or shown on a terminal. */
function workerStdout(argv, env) {
  let format = env.QLESS_LOG_FORMAT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--log-format') format = argv[++i];
    else if (argv[i].startsWith('--log-format=')) format = argv[i].slice('--log-format='.length);
  }
  format ??= process.stdout.isTTY ? 'pretty' : 'json';
  return format === 'json' ? 'inherit' : 'pipe';
}

/** Starts the spares for `argv` (the command line after the script); never throws. */
function startSpareWorkers(argv, env = process.env) {
  const launch = require('./launch.cjs');
  if (launch.switchedOn(env.QLESS_WORKER_NO_SPARES)) return;
  const count = Math.min(workersWanted(argv, env) ?? 0, MOST);
  // Without a bundle for the current sources, each would build its own: the supervisor builds it.
  if (count <= 0 || !launch.bundleFound('worker')) return;
  const stdout = workerStdout(argv, env);
  const execArgv = workerExecArgv(env.NODE_OPTIONS);
  const spares = [];
  const environment = { ...env };
  try {
    for (let i = 0; i < count; i++) {
      const child = fork(ENTRY, [], {
        execArgv,
        env: environment,
        stdio: ['ignore', stdout, 'inherit', 'ipc'],
        serialization: 'json',
      });
      // A spare that failed to start is simply not there when the supervisor looks.
      child.on('error', () => undefined);
      spares.push(child);
    }
  } catch {
    // Out of processes or memory: the supervisor forks what it needs, and says so if it cannot.
  }
  const registry = { entry: ENTRY, execArgv, stdout, env: environment, spares };
  globalThis[REGISTRY] = registry;
  process.once('exit', () => {
    for (const child of registry.spares.splice(0)) child.kill();
  });
}

module.exports = { startSpareWorkers };
