// Gathers the script calls a worker makes in the same turn of the event loop (completes, fails,
// hand-backs, and the pop that follows them) and sends them in one pipeline: with several jobs in
// flight many end together, and even with one, its complete and the next pop share a round trip.
// That keeps Redis, not the network or the syscalls, the limit.
import type { BatchResult, ScriptCall } from '../client/script-caller.ts';
import type { ScriptReply } from '../client/types.ts';

/** Sends calls in one round trip; results in the same order. */
export type BatchSender = (calls: readonly ScriptCall[]) => Promise<BatchResult[]>;

interface Pending {
  call: ScriptCall;
  resolve: (value: ScriptReply) => void;
  reject: (error: Error) => void;
}

export class CallBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly send: BatchSender) {}

  /** Queues a call for the next flush; resolves with its reply, rejects with its (typed) error. */
  call(call: ScriptCall): Promise<ScriptReply> {
    return new Promise<ScriptReply>((resolve, reject) => {
      this.queue.push({ call, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the promise callbacks of this turn, so the pop a finished job leads to joins its complete.
        process.nextTick(() => this.flush());
      }
    });
  }

  /** Resolves once every call queued so far has its reply. */
  async settled(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      if (this.queue.length > 0) this.flush();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const sent = this.send(batch.map((item) => item.call)).then(
      (results) => {
        batch.forEach((item, index) => {
          const result = results[index];
          if (!result) item.reject(new Error(`no reply for ${item.call.command}`));
          else if (result.ok) item.resolve(result.value);
          else item.reject(result.error);
        });
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const item of batch) item.reject(failure);
      },
    );
    const tracked = sent.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
