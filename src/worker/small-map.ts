// A map for the few entries a worker keeps per job in flight (the jobs it runs, the jobs it holds,
// the lock renewals due), kept in two arrays that never shrink, in insertion order. Why not a Map:
// these maps live as long as the process, so V8 keeps them in the old generation, and a Map there
// that empties (the last job ends) or fills up with deleted entries is given a new hash table in
// the old generation. Set and deleted once per job, each such Map left about 50-80 bytes of
// old-generation garbage per job: with a few of them, a busy worker's heap (and RSS) grew by
// 15 MB before each full collection. Here a set and a delete allocate nothing once the arrays
// have room. Lookups scan the entries, which is quick for the tens a worker holds.

export class SmallMap<K, V> {
  private readonly keyAt: (K | undefined)[] = [];
  private readonly valueAt: (V | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    const index = this.indexOf(key);
    return index < 0 ? undefined : this.valueAt[index];
  }

  has(key: K): boolean {
    return this.indexOf(key) >= 0;
  }

  /** Sets the value of `key`: in its place if it is there, else as the last entry. */
  set(key: K, value: V): this {
    let index = this.indexOf(key);
    if (index < 0) index = this.count++;
    this.keyAt[index] = key;
    this.valueAt[index] = value;
    return this;
  }

  /** Removes `key` (the later entries move up, keeping their order); false if it was not there. */
  delete(key: K): boolean {
    const index = this.indexOf(key);
    if (index < 0) return false;
    const last = --this.count;
    for (let at = index; at < last; at++) {
      this.keyAt[at] = this.keyAt[at + 1];
      this.valueAt[at] = this.valueAt[at + 1];
    }
    // Cleared, not popped: the arrays keep their room, and hold on to nothing.
    this.keyAt[last] = undefined;
    this.valueAt[last] = undefined;
    return true;
  }

  /** The values in insertion order (a copy: the map may change while the caller goes through it). */
  values(): V[] {
    return this.valueAt.slice(0, this.count) as V[];
  }

  /** The entries in insertion order (a copy, like values()). */
  entries(): [K, V][] {
    const entries: [K, V][] = [];
    for (let index = 0; index < this.count; index++) entries.push([this.keyAt[index] as K, this.valueAt[index] as V]);
    return entries;
  }

  private indexOf(key: K): number {
    for (let index = 0; index < this.count; index++) if (this.keyAt[index] === key) return index;
    return -1;
  }
}
