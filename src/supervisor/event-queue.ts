// The reconcile loop's one inbox. Signal handlers, the code watcher, the children and the
// loop's own background work (hand-backs, Redis lookups) only push a fact here; the loop takes
// them all at the start of each turn, in the order they happened, and sleeps on `wait` between
// turns. An event pushed while a turn runs is not lost: the next `wait` returns at once.

export class EventQueue<E> {
  private queued: E[] = [];
  private wakeUp: (() => void) | undefined;

  push(event: E): void {
    this.queued.push(event);
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** The events pushed since the last call, oldest first. */
  take(): E[] {
    const events = this.queued;
    this.queued = [];
    return events;
  }

  /** Resolves once an event is queued (at once if one already is), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.queued.length > 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakeUp = done;
    });
  }
}
