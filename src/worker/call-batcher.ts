// Gathers the script calls a worker makes in the same turn of the event loop (completes, fails,
// hand-backs, and the pop that follows them) and sends them in one pipeline: with several jobs in
// flight many end together, and even with one, its complete and the next pop share a round trip.
// A complete followed by a pop of the same worker in the same flush becomes one `complete.pop`
// call (the script's extension, leaving exactly what the two leave; the client fuses them), so a
// job costs Redis one script run instead of two. That keeps Redis, not the network or the
// syscalls, the limit.
import { fuseCompletePop, splitCompletePopReply } from '../client/commands.ts';
import type { BatchResult, ScriptCall } from '../client/script-caller.ts';
import type { ScriptReply } from '../client/types.ts';

/** Sends calls in one round trip; results in the same order. */
export type BatchSender = (calls: readonly ScriptCall[]) => Promise<BatchResult[]>;

/** Told, for each call of a flush sent (replied or failed), its command and how long the round trip took. */
export type RoundTripTimer = (command: string, seconds: number) => void;

/** Told the reply of one call: `error` set when it failed. */
export type CallDone = (error: Error | undefined, reply?: ScriptReply) => void;

interface Pending {
  call: ScriptCall;
  done: CallDone;
}

/** A complete and the pop after it, sent as one `complete.pop`. */
interface Fused {
  complete: Pending;
  pop: Pending;
  call: ScriptCall;
}

/** What goes on the wire for one flush: each entry is a call of its own, or a fused pair. */
type Entry = Pending | Fused;

const isFused = (entry: Entry): entry is Fused => (entry as Partial<Fused>).pop !== undefined;

export class CallBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  /**
   * Flushes sent and not yet answered. A count, not a Set of their promises: a long-lived Set
   * emptied once per job leaves old-generation garbage behind (see small-map.ts).
   */
  private inFlight = 0;
  /** Told when no flush is in flight any more. */
  private idleWaiters: (() => void)[] = [];

  /**
   * @param onRoundTrip only with the pool's metrics: timed here, where the send is awaited anyway
   *   (a wrapper around `sendBatch` would cost every flush another async frame and its promises)
   */
  constructor(
    private readonly sendBatch: BatchSender,
    private readonly onRoundTrip?: RoundTripTimer,
  ) {}

  /** Queues a call for the next flush; resolves with its reply, rejects with its (typed) error. */
  call(call: ScriptCall): Promise<ScriptReply> {
    return new Promise<ScriptReply>((resolve, reject) => {
      this.send(call, (error, reply) => (error ? reject(error) : resolve(reply ?? null)));
    });
  }

  /**
   * Queues a call for the next flush; `done` is told its reply or (typed) error. Every `done`
   * of a flush has run before `settled()` counts that flush as answered.
   */
  send(call: ScriptCall, done: CallDone): void {
    this.queue.push({ call, done });
    if (!this.scheduled) {
      this.scheduled = true;
      // After the promise callbacks of this turn, so the pop a finished job leads to joins its complete.
      process.nextTick(() => this.flush());
    }
  }

  /** Resolves once every call queued so far has its reply. */
  async settled(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) {
      if (this.queue.length > 0) this.flush();
      if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.track(this.sendEntries(this.entries(batch)));
  }

  /** The calls of one flush, with a complete directly followed by a pop fused. */
  private entries(batch: Pending[]): Entry[] {
    if (batch.length < 2) return batch;
    const entries: Entry[] = [];
    for (let index = 0; index < batch.length; index++) {
      const item = batch[index];
      const next = batch[index + 1];
      const call = next && fuseCompletePop(item.call, next.call);
      if (call) {
        entries.push({ complete: item, pop: next, call });
        index++;
      } else {
        entries.push(item);
      }
    }
    return entries;
  }

  private async sendEntries(entries: Entry[]): Promise<void> {
    const calls = entries.map((entry) => entry.call);
    const startedAt = this.onRoundTrip ? performance.now() : 0;
    let results: BatchResult[];
    try {
      results = await this.sendBatch(calls);
    } catch (error) {
      this.timeCalls(entries, startedAt);
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const entry of entries) {
        if (isFused(entry)) {
          tell(entry.complete, failure);
          tell(entry.pop, failure);
        } else {
          tell(entry, failure);
        }
      }
      return;
    }
    this.timeCalls(entries, startedAt);
    const unfused: Pending[] = [];
    entries.forEach((entry, index) => {
      const result = results[index];
      if (!isFused(entry)) {
        settle(entry, result);
        return;
      }
      if (result?.ok) {
        // The pop's JSON is left for its caller to decode.
        let replies: [complete: ScriptReply, pop: ScriptReply];
        try {
          replies = splitCompletePopReply(result.value);
        } catch (error) {
          // It ran (nothing may be sent again), but its answer cannot be read.
          tell(entry.complete, error as Error);
          tell(entry.pop, error as Error);
          return;
        }
        tell(entry.complete, undefined, replies[0]);
        tell(entry.pop, undefined, replies[1]);
        return;
      }
      // A refused complete.pop wrote nothing (its pop arguments and the complete's checks come
      // before any write): sent on their own, the two get their own replies or errors.
      unfused.push(entry.complete, entry.pop);
    });
    if (unfused.length > 0) await this.sendEntries(unfused);
  }

  /**
   * Each call of a flush, at the duration of its round trip. Read from the entries, not from the
   * array of calls made of them by Array.prototype.map: given that array, the metrics' optimized
   * code was thrown away ('wrong map' at its first read of the array, --trace-deopt) and compiled
   * again, two or three times in each worker of a drain.
   */
  private timeCalls(entries: readonly Entry[], startedAt: number): void {
    const timer = this.onRoundTrip;
    if (!timer) return;
    const seconds = (performance.now() - startedAt) / 1000;
    for (let index = 0; index < entries.length; index++) timer(entries[index].call.command, seconds);
  }

  private track(sent: Promise<void>): void {
    this.inFlight++;
    void sent.finally(() => {
      if (--this.inFlight > 0 || this.idleWaiters.length === 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    });
  }
}

function settle(item: Pending, result: BatchResult | undefined): void {
  if (!result) tell(item, new Error(`no reply for ${item.call.command}`));
  else if (result.ok) tell(item, undefined, result.value);
  else tell(item, result.error);
}

/** A caller's `done` that throws must not keep the others of the flush from theirs. */
function tell(item: Pending, error: Error | undefined, reply?: ScriptReply): void {
  try {
    item.done(error, reply);
  } catch (thrown) {
    // Reported like any rejection nobody handled (the worker logs those and carries on).
    void Promise.reject(thrown);
  }
}
