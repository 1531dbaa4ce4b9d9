// A burst of file events (a save that writes several files) is told twice: at its first event
// (so the pool stops taking jobs with the old code at once) and once it has settled (DEBOUNCE_MS
// without an event, or MAX_BURST_MS after it began, so a file written without pause cannot hold
// it open forever).

export const DEBOUNCE_MS = 100;
const MAX_BURST_MS = 1_000;

export class Burst {
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new Set<string>();
  /** When the burst in progress began (by `now`); undefined between bursts. */
  private startedAt: number | undefined;

  /**
   * @param onStart called at the first event of a burst, with its file
   * @param onSettled called once the burst has settled, with every file it changed (sorted)
   * @param now the clock, in ms (monotonic by default)
   */
  constructor(
    private readonly onStart: (file: string) => void,
    private readonly onSettled: (files: string[]) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One file event. */
  add(file: string): void {
    this.changed.add(file);
    clearTimeout(this.timer);
    const now = this.now();
    if (this.startedAt === undefined) {
      this.startedAt = now;
      this.onStart(file);
    }
    const settleIn = Math.min(DEBOUNCE_MS, this.startedAt + MAX_BURST_MS - now);
    this.timer = setTimeout(() => this.settle(), Math.max(0, settleIn));
  }

  /** Forgets the burst in progress without telling it. */
  cancel(): void {
    clearTimeout(this.timer);
    this.startedAt = undefined;
    this.changed.clear();
  }

  private settle(): void {
    this.startedAt = undefined;
    const files = [...this.changed].sort();
    this.changed.clear();
    if (files.length > 0) this.onSettled(files);
  }
}
