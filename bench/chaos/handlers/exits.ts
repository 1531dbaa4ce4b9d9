// Poison: the handler calls process.exit. Documented end: failed, `<queue>-ProcessExitError`.
import { recordStart } from './run-record.ts';

export default function exits(job: { jid: string }): void {
  recordStart(job.jid);
  process.exit(7);
}
