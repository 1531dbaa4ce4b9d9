// The script's `complete.pop` extension: complete a held job and pop the next jobs for the same
// worker in one script call, leaving exactly what `complete` then `pop` leave. A worker that
// finishes a job and wants another saves a script run (and, unbatched, a round trip).
import { QlessError } from './errors.ts';
import { requireCount, requireName } from './input.ts';
import { type CompleteOptions, completeCall, type HeldJobRef } from './job-calls.ts';
import type { CompletedState } from './job.ts';
import { asList, parseReply } from './reply.ts';
import type { ScriptCall } from './script-caller.ts';
import type { JobJson, ScriptReply } from './types.ts';

export const COMPLETE_POP = 'complete.pop';

/** What `complete.pop` answers: complete's reply, then the jobs pop handed out. */
export interface CompletePopReply {
  /** The state the completed job is in (`complete`, or waiting/scheduled/depends after `next`). */
  state: CompletedState;
  /** The popped jobs as the script encodes them (the same objects `pop` returns). */
  jobs: JobJson[];
}

/**
 * `complete.pop <pop-queue> <count> <complete's arguments>`: `job` completed by `worker` (with
 * `next` and `options` as for complete), then up to `count` (≥ 1) jobs of `popQueue` locked for
 * `worker`. Checked like complete and pop before anything is sent.
 */
export function completePopCall(
  job: HeldJobRef,
  worker: string,
  popQueue: string,
  count = 1,
  next?: string,
  options?: CompleteOptions,
): ScriptCall {
  const queue = requireName(popQueue, 'pop queue');
  const wanted = requireCount(count, 'count', { min: 1 });
  const complete = completeCall(job, worker, next, options);
  return { command: COMPLETE_POP, args: [queue, String(wanted), ...complete.args] };
}

/** The `[state, pop JSON]` reply decoded. */
export function parseCompletePopReply(reply: ScriptReply): CompletePopReply {
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'string') {
    throw new QlessError(`unexpected reply to ${COMPLETE_POP}: ${JSON.stringify(reply)}`, COMPLETE_POP);
  }
  return { state: reply[0] as CompletedState, jobs: asList(parseReply<JobJson[]>(reply[1], COMPLETE_POP)) };
}
