// The V8 flags qless-worker's processes switch at run time, and the agreement on them between
// bin/qless-worker, the supervisor and the workers. Loading ioredis, pino and our modules runs
// much code once: compiling it beyond bytecode (Sparkplug, TurboFan) and growing the heap for
// speed costs memory (about 20 MB of RSS in the supervisor, 10 MB a worker) and CPU that the
// other processes starting beside it need.
// - The supervisor runs no handlers and little code per job: it stays lean, unless it serves
//   metrics (a scrape of many series is about twice as slow without TurboFan).
// - A worker starts lean and turns V8's defaults back on once ready, before its first job: the
//   job path and the handlers are compiled as usual.

/** Sparkplug is on by default only where V8 builds it; elsewhere it is left alone. */
const SPARKPLUG = process.arch === 'x64' || process.arch === 'arm64';

/**
 * Set by bin/qless-worker before anything else loads (a literal there: it runs before TypeScript
 * can be loaded). The young generation does not grow either: only the command line can cap it.
 */
export const SUPERVISOR_LEAN_FLAGS: readonly string[] = [
  '--optimize-for-size',
  '--no-turbofan',
  '--no-sparkplug',
  '--semi-space-growth-factor=1',
];

/** Set by the supervisor when it serves metrics. */
export const SUPERVISOR_SERVING_FLAGS: readonly string[] = [
  '--no-optimize-for-size',
  '--turbofan',
  ...(SPARKPLUG ? ['--sparkplug'] : []),
  '--semi-space-growth-factor=2',
];

/** On every worker's command line (src/supervisor/worker-launch.ts). */
export const WORKER_LEAN_START_FLAGS: readonly string[] = [
  '--no-turbofan',
  '--optimize-for-size',
  ...(SPARKPLUG ? ['--no-sparkplug'] : []),
];

/**
 * Set by a worker once ready (V8 reads these as it goes). The interrupt budget (how much bytecode a
 * function runs before V8 considers optimizing it) is an eighth of V8's default (67,584): a worker's
 * job path is a few hot functions run thousands of times, and at the default they spend the first
 * seconds of a run (a backlog drained after a start, a restart, a reload) interpreted. Measured at
 * the defaults (2 workers × concurrency 1, 10,000 no-op jobs from the pool's spawn, 4 to 6 rounds
 * in turns): about 15 % more jobs a second, and less worker CPU per job.
 */
export const WORKER_FULL_SPEED_FLAGS: readonly string[] = [
  '--turbofan',
  '--no-optimize-for-size',
  ...(SPARKPLUG ? ['--sparkplug'] : []),
  '--interrupt-budget=8192',
];

/** V8 flags given by the user (NODE_OPTIONS) that say how V8 compiles: those rule, nothing is switched. */
export function compilerFlagsGiven(nodeOptions: string | undefined): boolean {
  return /--(no-)?(turbofan|opt|sparkplug|optimize[-_]for[-_]size|lite[-_]mode|jitless)\b/.test(nodeOptions ?? '');
}
