// How a worker process is started: which entry module, with which Node flags, and the config it
// is sent first. The supervisor forks the worker by path and never imports it.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerConfig } from '../protocol/ipc.ts';
import type { WorkerOptions } from '../protocol/options.ts';
import { compilerFlagsGiven, WORKER_LEAN_START_FLAGS } from '../protocol/v8-flags.ts';

// The CommonJS entry registers tsx's in-thread hooks itself: no loader thread (~25 MB) per worker.
export const DEFAULT_ENTRY = fileURLToPath(new URL('../worker/worker-entry.cjs', import.meta.url));

/**
 * Node flags of every worker process. A TypeScript entry (test fakes) needs tsx's loader,
 * resolved from this package so it works wherever the package is installed; the default entry
 * registers tsx by itself.
 */
export function workerExecArgv(entry: string, nodeOptions: string | undefined): string[] {
  return [...workerV8Flags(nodeOptions), ...(entry.endsWith('.cjs') ? [] : ['--import', import.meta.resolve('tsx')])];
}

/**
 * V8 flags of every worker process:
 * - a young generation of at most 1 MB a semi-space (V8's default grows to 16 MB). Start-up
 *   garbage no longer leaves an idle worker with a large, mostly empty young generation (about
 *   4 MB less RSS idle, about 25 MB less after a run of jobs), at no measured cost in throughput
 *   (`npm run bench`). A --max-semi-space-size in NODE_OPTIONS (which the workers inherit) is left
 *   to rule instead.
 * - a lean start (src/protocol/v8-flags.ts): no Sparkplug, no TurboFan and a heap kept small
 *   until the worker is ready, when it turns V8's defaults back on (about 10 MB less RSS idle).
 *   Compiler flags in NODE_OPTIONS rule instead.
 */
function workerV8Flags(nodeOptions: string | undefined): string[] {
  return [
    ...(nodeOptions?.includes('semi-space-size') ? [] : ['--max-semi-space-size=1']),
    ...(compilerFlagsGiven(nodeOptions) ? [] : WORKER_LEAN_START_FLAGS),
  ];
}

/** What the worker of a slot is told at start-up. */
export function workerConfig(
  options: WorkerOptions,
  slot: { index: number; name: string; sandbox: string },
  paused: boolean,
): WorkerConfig {
  return {
    slot: slot.index,
    name: slot.name,
    queues: options.queues,
    interval: options.interval,
    path: options.path,
    sandbox: slot.sandbox,
    redis: options.redis,
    concurrency: options.concurrency,
    reserver: options.reserver,
    resume: options.resume,
    imports: options.imports,
    maxJobs: options.maxJobs,
    maxMemory: options.maxMemory,
    paused,
    metrics: options.metrics !== undefined,
    logLevel: options.logLevel,
    shutdownTimeout: options.shutdownTimeout,
  };
}

/** What bin/qless-worker's spares (src/launch/spares.cjs) were started with, under a shared symbol. */
interface SpareRegistry {
  entry: string;
  execArgv: string[];
  stdout: 'inherit' | 'pipe';
  env: NodeJS.ProcessEnv;
  spares: ChildProcess[];
}

const SPARES = Symbol.for('qless-worker.spare-workers');

function spareRegistry(): SpareRegistry | undefined {
  return (globalThis as Record<symbol, SpareRegistry | undefined>)[SPARES];
}

function sameEnvironment(a: NodeJS.ProcessEnv, b: NodeJS.ProcessEnv): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * A worker process bin/qless-worker started ahead (src/launch/spares.cjs), still waiting for its
 * config, when it is exactly what a fork would start now: the same entry, Node flags, stdout and
 * environment. Otherwise every spare is let go and undefined is returned (fork as usual).
 */
export function takeSpareWorker(
  entry: string,
  execArgv: readonly string[],
  stdout: 'inherit' | 'pipe',
): ChildProcess | undefined {
  const registry = spareRegistry();
  if (!registry || registry.spares.length === 0) return undefined;
  const fits =
    registry.entry === entry &&
    registry.stdout === stdout &&
    registry.execArgv.length === execArgv.length &&
    registry.execArgv.every((flag, index) => flag === execArgv[index]) &&
    sameEnvironment(registry.env, process.env);
  if (!fits) {
    releaseSpareWorkers();
    return undefined;
  }
  for (let child = registry.spares.shift(); child; child = registry.spares.shift()) {
    if (child.pid !== undefined && child.connected && child.exitCode === null && child.signalCode === null)
      return child;
    child.kill();
  }
  return undefined;
}

/** The spares nobody took end (once the pool's first workers are forked, and when it stops). */
export function releaseSpareWorkers(): void {
  for (const child of spareRegistry()?.spares.splice(0) ?? []) child.kill();
}
