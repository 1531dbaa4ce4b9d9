// How a worker process starts lean and then runs at full speed, agreed between the supervisor
// (which puts the lean flags on the worker's command line) and the worker (which turns V8's
// defaults back on once it is ready). Loading the client, ioredis and pino runs much code once:
// compiling it beyond bytecode (Sparkplug, TurboFan) and growing the heap for speed would cost
// about 10 MB of RSS a worker, and CPU that the other processes starting beside it need. The job
// path and the handlers, which run after start-up, are compiled as usual.

/** Sparkplug is on by default only where V8 builds it; elsewhere it is left alone. */
const SPARKPLUG = process.arch === 'x64' || process.arch === 'arm64';

/** On the worker's command line. */
export const LEAN_START_FLAGS: readonly string[] = [
  '--no-turbofan',
  '--optimize-for-size',
  ...(SPARKPLUG ? ['--no-sparkplug'] : []),
];

/** Set by the worker once ready (V8 reads these as it goes). */
export const FULL_SPEED_FLAGS: readonly string[] = [
  '--turbofan',
  '--no-optimize-for-size',
  ...(SPARKPLUG ? ['--sparkplug'] : []),
];

/** V8 flags given by the user (NODE_OPTIONS) that say how V8 compiles: those rule, nothing is switched. */
export function compilerFlagsGiven(nodeOptions: string | undefined): boolean {
  return /--(no-)?(turbofan|opt|sparkplug|optimize[-_]for[-_]size|lite[-_]mode|jitless)\b/.test(nodeOptions ?? '');
}
