// klass `failing.ChargeCard`: always throws. The worker fails the job into the group
// `<queue>-CardDeclinedError` (the error's name) with the stack as the failure message; after
// a fix, `qless retry <group>` puts the whole group back to work.
import type { WorkerJob } from 'qless-worker';

export interface ChargeData {
  card?: string;
  cents?: number;
}

class CardDeclinedError extends Error {
  override name = 'CardDeclinedError';
}

export async function ChargeCard(job: WorkerJob<ChargeData>): Promise<void> {
  const card = job.data.card ?? '0000';
  const cents = job.data.cents ?? 0;
  throw new CardDeclinedError(`card ending ${card} was declined for ${(cents / 100).toFixed(2)} (order ${job.jid})`);
}
