// One Node timer for many deadlines: the lock renewers of every job in flight. A job's first
// renewal is due half a lock later (30 s by default), so jobs that start later are due later:
// scheduling one costs a map entry, not a timer of its own (creating and clearing a timer per
// job shows up at thousands of jobs a second, and async hooks see every timer). The timer is
// re-armed only for a deadline earlier than the one it waits for; when it fires it runs what is
// due and waits for the next. It never keeps the process alive by itself, and it always fires in
// the async context it was made in, never in that of the job whose call happened to re-arm it.
import { AsyncResource } from 'node:async_hooks';
import { SmallMap } from '../small-map.ts';

/** Something with a deadline: `due()` runs when it is reached. */
export interface DueTask {
  due(): void;
}

export class SharedTimer {
  /** Set and deleted per job: a SmallMap (see small-map.ts). */
  private readonly deadlines = new SmallMap<DueTask, number>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private readonly context = new AsyncResource('SharedTimer');

  constructor(
    /** Told when a task throws (the others still run). */
    private readonly onError: (error: unknown) => void,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Runs `task.due()` in `delayMs` (replacing its earlier deadline, if any). */
  schedule(task: DueTask, delayMs: number): void {
    const at = this.clock() + Math.max(0, delayMs);
    this.deadlines.set(task, at);
    if (at < this.armedFor) this.arm(at);
  }

  /** Its deadline is dropped (the timer, if armed for it, fires and finds nothing due). */
  cancel(task: DueTask): void {
    this.deadlines.delete(task);
  }

  /** Tasks waiting for their deadline. */
  get size(): number {
    return this.deadlines.size;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = this.context.runInAsyncScope(() => setTimeout(() => this.fire(), Math.max(0, at - this.clock())));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    // Timers may fire a little early by this clock (their own rounding): 1 ms counts as reached.
    const now = this.clock() + 1;
    const ready: DueTask[] = [];
    let next = Infinity;
    for (const [task, at] of this.deadlines.entries()) {
      if (at <= now) ready.push(task);
      else if (at < next) next = at;
    }
    for (const task of ready) this.deadlines.delete(task);
    if (next < Infinity) this.arm(next);
    for (const task of ready) {
      try {
        task.due();
      } catch (error) {
        // One task's failure must not cost the others their turn.
        this.onError(error);
      }
    }
  }
}
