// Bounds the label sets of one metric. A klass, a queue or a failure group comes from a job, so a
// flood of distinct ones must not grow the registry without end: once a metric holds `cap` less a
// tenth of distinct label sets, a new set is counted with its job-given values replaced by
// "other" (first the klass and group: one "other" set per queue, which the last tenth is kept
// for; then the queue too), and the first time that happens it is logged. A metric never holds
// more than `cap` sets.

export const OTHER = 'other';
export const DEFAULT_LABEL_SETS = 1_000;

export type Labels = Record<string, string>;

export class LabelBudget<L extends Labels> {
  private readonly seen = new Set<string>();
  private overflowed = false;

  /**
   * @param names the metric's label names, in a fixed order
   * @param fallbacks the label names to replace by "other", one group per step
   * @param onOverflow told once, the first time a set had to be replaced
   */
  constructor(
    private readonly names: readonly (keyof L & string)[],
    private readonly fallbacks: readonly (readonly (keyof L & string)[])[],
    private readonly cap: number,
    private readonly onOverflow: () => void,
  ) {}

  /** How many distinct label sets were admitted. */
  get size(): number {
    return this.seen.size;
  }

  /** The labels to count under: these, or their fallback once the metric is full. */
  admit(labels: L): L {
    const last = this.fallbacks.length;
    // Room left for new sets at each step: the originals stop short of the sets kept for "other".
    const reserved = Math.max(last, Math.floor(this.cap / 10));
    let candidate = labels;
    for (let step = 0; ; step++) {
      const key = this.key(candidate);
      const room = step === 0 ? this.cap - reserved : step < last ? this.cap - 1 : this.cap;
      if (this.seen.has(key) || this.seen.size < room) {
        this.seen.add(key);
        if (step > 0 && !this.overflowed) {
          this.overflowed = true;
          this.onOverflow();
        }
        return candidate;
      }
      // Only reached if the all-"other" set itself had no room, which the reserve rules out.
      if (step === last) return candidate;
      candidate = { ...candidate };
      for (const name of this.fallbacks[step]) (candidate as Labels)[name] = OTHER;
    }
  }

  private key(labels: L): string {
    return this.names.map((name) => labels[name]).join('\0');
  }
}
