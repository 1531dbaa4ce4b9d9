// The order in which a worker asks its queues for work on each poll.
// ordered: always the order given (first queue first, later queues only when earlier ones are empty).
// round-robin: each poll starts one queue further along, so every queue gets to go first in turn.
// shuffled: a fresh random order on every poll.
import type { ReserverName } from '../protocol/options.ts';

export interface Reserver {
  readonly name: ReserverName;
  /** The queues to try on the next poll, in order. */
  next(): readonly string[];
}

class OrderedReserver implements Reserver {
  readonly name = 'ordered';
  constructor(private readonly queues: readonly string[]) {}
  next(): readonly string[] {
    return this.queues;
  }
}

class RoundRobinReserver implements Reserver {
  readonly name = 'round-robin';
  private start = 0;
  constructor(private readonly queues: readonly string[]) {}
  next(): readonly string[] {
    const order = [...this.queues.slice(this.start), ...this.queues.slice(0, this.start)];
    this.start = (this.start + 1) % this.queues.length;
    return order;
  }
}

class ShuffledReserver implements Reserver {
  readonly name = 'shuffled';
  constructor(
    private readonly queues: readonly string[],
    private readonly random: () => number,
  ) {}
  next(): readonly string[] {
    const order = [...this.queues];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }
}

export function createReserver(
  name: ReserverName,
  queues: readonly string[],
  random: () => number = Math.random,
): Reserver {
  if (queues.length === 0) throw new Error('a reserver needs at least one queue');
  switch (name) {
    case 'ordered':
      return new OrderedReserver(queues);
    case 'round-robin':
      return new RoundRobinReserver(queues);
    case 'shuffled':
      return new ShuffledReserver(queues, random);
  }
}
