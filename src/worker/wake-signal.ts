// A sleep that something else can cut short. Wake-ups are counted, so one that arrives while
// the fetcher is busy popping (after it looked, before it sleeps) is not lost: sleeping from an
// older count returns at once.
export class WakeSignal {
  private count = 0;
  private waiters: (() => void)[] = [];

  /** The number of wake-ups so far; pass it to `sleep` to ignore only later ones. */
  get generation(): number {
    return this.count;
  }

  wake(): void {
    this.count++;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Waits `ms` milliseconds, or less if woken after `since` (default: now). */
  sleep(ms: number, since: number = this.count): Promise<void> {
    if (this.count !== since) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve();
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /** Waits for the next wake-up, however long it takes. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}
