// Supervisor log lines picked by their fields (`event` and the facts it carries), not by the
// wording of their message.
import type { LogLine } from '../helpers/worker.ts';

/** Matches the supervisor's lines of one `event` whose fields have these values. */
export function logged(event: string, fields: Record<string, unknown> = {}): (line: LogLine) => boolean {
  return (line) => line.event === event && Object.entries(fields).every(([key, value]) => line[key] === value);
}

/** A worker exit that was not a clean, asked-for one ("exited unexpectedly"). */
export function died(fields: Record<string, unknown> = {}): (line: LogLine) => boolean {
  return logged('worker-exited', { ...fields, clean: false });
}

/** A job of a dead worker put back in its queue. */
export function handedBack(jid: string): (line: LogLine) => boolean {
  return logged('handback', { jid, outcome: 'handed-back' });
}
