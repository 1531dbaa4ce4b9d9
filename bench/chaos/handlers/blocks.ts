// Poison: the handler blocks the event loop (for an hour, i.e. until its worker is killed). The
// watchdog kills the worker once the job's lock expired and the job is handed back with `retry`;
// put with `retries 0`, that first hand-back fails it: `failed-retries-<queue>`.
import { recordStart } from './run-record.ts';

export default function blocks(job: { jid: string }): void {
  recordStart(job.jid);
  const until = Date.now() + 3_600_000;
  let spins = 0;
  while (Date.now() < until) spins++;
  throw new Error(`blocks: the worker was not killed in an hour (${spins} spins)`);
}
