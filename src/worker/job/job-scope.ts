// Which job a piece of handler code belongs to, so that what it does to the whole process
// (process.exit, an uncaught exception, an unhandled rejection) ends that job instead of the
// worker. AsyncLocalStorage follows the handler into its timers, promises and callbacks.
import { AsyncLocalStorage } from 'node:async_hooks';

/** Raised inside a handler that called process.exit: the job fails with `<queue>-ProcessExitError`. */
export class ProcessExitError extends Error {
  override name = 'ProcessExitError';
  constructor(readonly code: number | string | null | undefined) {
    super(
      `the handler called process.exit(${code === undefined ? '' : String(code)}); ` +
        'the worker keeps running and fails the job instead',
    );
  }
}

/** What the runner of one job is told when its handler misbehaves outside its own call stack. */
export interface JobScope {
  readonly jid: string;
  /** The handler broke out (process.exit, uncaught error, unhandled rejection): end the job with this error. */
  escape(error: unknown): void;
}

const scopes = new AsyncLocalStorage<JobScope>();

/** Runs a handler call inside the job's scope. */
export function runInJobScope<T>(scope: JobScope, call: () => T): T {
  return scopes.run(scope, call);
}

export interface ProcessGuardHooks {
  /** An exception nobody caught, outside any job: the process is in an unknown state. */
  onFatal(error: unknown): void;
  /** A rejection nobody handled, outside any job. */
  onUnhandledRejection(reason: unknown): void;
}

let realExit: ((code?: number | string | null) => never) | undefined;

/**
 * Intercepts process.exit for the rest of the process's life: inside a job it throws
 * ProcessExitError (unwinding the handler) and ends that job; outside any job it exits as usual.
 * Uncaught exceptions and unhandled rejections inside a job end that job too.
 */
export function installProcessGuard(hooks: ProcessGuardHooks): void {
  if (realExit) return;
  const exit = process.exit.bind(process) as (code?: number | string | null) => never;
  realExit = exit;
  process.exit = ((code?: number | string | null): never => {
    const scope = scopes.getStore();
    if (!scope) return exit(code);
    const error = new ProcessExitError(code);
    scope.escape(error);
    throw error;
  }) as typeof process.exit;

  process.on('uncaughtException', (error) => {
    const scope = scopes.getStore();
    // Thrown by our own process.exit above from a timer or callback: its job was already told.
    if (error instanceof ProcessExitError && scope) return;
    if (scope) scope.escape(error);
    else hooks.onFatal(error);
  });
  process.on('unhandledRejection', (reason) => {
    const scope = scopes.getStore();
    if (reason instanceof ProcessExitError && scope) return;
    if (scope) scope.escape(reason);
    else hooks.onUnhandledRejection(reason);
  });
}

/** Exits the process for real, even while the guard is installed (the worker's own exits). */
export function exitProcess(code: number): never {
  return (realExit ?? process.exit.bind(process))(code);
}
