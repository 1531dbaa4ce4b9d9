// Signal handlers of the supervisor only queue the signal and wake the reconcile loop;
// the loop decides what each one means (gunicorn's arbiter does the same).

export const POOL_SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGHUP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGUSR2',
  'SIGCONT',
] as const;
export type PoolSignal = (typeof POOL_SIGNALS)[number];

export class SignalQueue {
  private readonly queued: PoolSignal[] = [];
  private readonly handlers = new Map<PoolSignal, () => void>();

  constructor(private readonly wake: () => void) {}

  install(): void {
    for (const signal of POOL_SIGNALS) {
      const handler = (): void => {
        this.queued.push(signal);
        this.wake();
      };
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  uninstall(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
  }

  /** The signals received since the last call, oldest first. */
  take(): PoolSignal[] {
    return this.queued.splice(0, this.queued.length);
  }
}
