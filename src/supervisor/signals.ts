// Signal handlers of the supervisor only hand the signal to the reconcile loop's queue; the loop
// decides what each one means (gunicorn's arbiter does the same).

const POOL_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR2', 'SIGCONT'] as const;
export type PoolSignal = (typeof POOL_SIGNALS)[number];

/** Routes every pool signal to `onSignal` (instead of Node's default action); returns the undo. */
export function listenForSignals(onSignal: (signal: PoolSignal) => void): () => void {
  const handlers = POOL_SIGNALS.map((signal) => {
    const handler = (): void => onSignal(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
