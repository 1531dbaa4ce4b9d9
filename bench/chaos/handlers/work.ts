// The normal chaos job: records its run, waits `data.sleepMs` (0: none), returns (completes).
// Any other data (the 5 MB `blob` of the poison fault) is left as it is and stored back.
import { setTimeout as sleep } from 'node:timers/promises';
import { recordEnd, recordStart } from './run-record.ts';

interface ChaosJob {
  jid: string;
  data: { sleepMs?: number };
}

export default async function work(job: ChaosJob): Promise<void> {
  recordStart(job.jid);
  const sleepMs = job.data.sleepMs ?? 0;
  if (sleepMs > 0) await sleep(sleepMs);
  recordEnd(job.jid);
}
