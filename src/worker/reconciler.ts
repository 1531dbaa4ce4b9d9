// Brings what this worker runs back in line with what Redis says its name holds. They drift
// apart when a reply is lost: a pop (or complete.pop) that Redis ran just as the connection broke
// loses its reply, ioredis sends the call again after the reconnect, and that second pop takes
// other jobs, while the first one's jobs stay locked under the name, unknown to the worker, until
// their locks expire. A reconcile lists the name's jobs and, for each one the worker does not
// hold (not running, no ending write unanswered), runs it if a lane is free (heartbeat first, so
// it is surely still ours) or hands it back at once (retry, delay 0).
// The fetcher runs it only when asked (after a reconnect, or a pop whose reply is unknown), never
// per job, and never while a pop of this worker is on its way (its jobs would look unknown).
// --resume takes up the jobs of a previous life of the slot with the same heartbeat-and-read step.
import type { Client } from '../client/client.ts';
import { getCall, heartbeatCall, parseGetReply, sendCall } from '../client/commands.ts';
import { LostLockError } from '../client/errors.ts';
import type { JobJson } from '../client/types.ts';
import type { Logger } from '../log.ts';
import type { CallBatcher } from './call-batcher.ts';
import type { HeldJobs } from './held-jobs.ts';

/** Where the jobs a reconcile finds can go. */
export interface Room {
  /** Free lanes: at most this many are run, the others handed back (0 when paused). */
  lanes: number;
  /** Asked after every await: false once the worker takes no more work (what it finds then goes back). */
  taking(): boolean;
  /** Jids the name holds that --resume is about to run: not strays. */
  resuming: readonly string[];
}

export interface ReconcilerDeps {
  client: Client;
  /** The heartbeat and read of a job go through it, in one round trip. */
  batcher: CallBatcher;
  /** The jobs this process holds: running, or with their ending write not yet answered. */
  held: Pick<HeldJobs, 'has' | 'list'>;
  logger: Logger;
}

/** What one reconcile did. */
export interface ReconcileOutcome {
  /** Held under the name and unknown here, their locks just renewed: to be run by this worker now. */
  adopted: JobJson[];
  /** Held under the name and unknown here: given back to their queues (jids). */
  handedBack: string[];
  /** Listed under the name but no longer ours by the time we looked (ended, taken, cancelled). */
  gone: string[];
}

export class Reconciler {
  constructor(
    private readonly name: string,
    private readonly deps: ReconcilerDeps,
  ) {}

  /** The jids Redis lists under this worker name, live locks first, then expired ones. */
  async heldInRedis(): Promise<string[]> {
    const { jobs, stalled } = await this.deps.client.workers.get(this.name);
    return [...new Set([...jobs, ...stalled])];
  }

  /**
   * Adopts (up to `room.lanes`) or hands back every job the name holds that this process does
   * not. Must not overlap a pop of this worker: a popped job whose reply is on its way is unknown
   * here until it arrives. The caller runs the adopted jobs at once.
   */
  async reconcile(room: Room): Promise<ReconcileOutcome> {
    const { held, logger } = this.deps;
    const outcome: ReconcileOutcome = { adopted: [], handedBack: [], gone: [] };
    // A job held when the listing is sent is known here, even if its end is answered before the
    // listing's reply is read (both replies can come in one read): not a stray.
    const known = new Set([...held.list().map((job) => job.jid), ...room.resuming]);
    const strays = (await this.heldInRedis()).filter((jid) => !known.has(jid) && !held.has(jid));
    if (strays.length === 0) {
      logger.debug('reconciled: this worker runs every job its name holds');
      return outcome;
    }
    logger.warn({ jids: strays }, 'this worker name holds jobs the worker does not run: running or handing them back');
    for (const jid of strays) {
      // Asked again after every await: a stop may have come meanwhile. Only a job whose lock was
      // just renewed is run (one merely read may have expired since).
      const adopting = outcome.adopted.length < room.lanes && room.taking();
      const json = adopting ? await this.adopt(jid) : await this.read(jid);
      if (!json) outcome.gone.push(jid);
      else if (adopting && room.taking()) {
        outcome.adopted.push(json);
        logger.info(jobFields(json), 'running a job this worker held without knowing it');
      } else if (await this.handBack(json)) outcome.handedBack.push(jid);
      else outcome.gone.push(jid);
    }
    return outcome;
  }

  /**
   * Renews the lock of a job held under this name and reads it (one round trip): the job, if it
   * is surely still ours and running and not already run here; undefined otherwise.
   */
  async adopt(jid: string): Promise<JobJson | undefined> {
    const { batcher, held, logger } = this.deps;
    if (held.has(jid)) return undefined;
    const [beat, read] = await Promise.allSettled([
      batcher.call(heartbeatCall({ jid }, this.name)),
      batcher.call(getCall(jid)),
    ]);
    if (beat.status === 'rejected') {
      if (beat.reason instanceof LostLockError)
        logger.info({ jid, err: beat.reason }, 'job no longer ours: left alone');
      else logger.error({ jid, err: beat.reason }, 'could not renew the lock of a job this worker holds');
      return undefined;
    }
    if (read.status === 'rejected') {
      logger.error({ jid, err: read.reason }, 'could not read a job this worker holds');
      return undefined;
    }
    const json = this.ours(jid, parseGetReply(read.value));
    return json && !held.has(jid) ? json : undefined;
  }

  /** Reads a job held under this name: the job if it is still running under it. */
  private async read(jid: string): Promise<JobJson | undefined> {
    try {
      return this.ours(jid, parseGetReply(await sendCall(this.deps.client, getCall(jid))));
    } catch (error) {
      this.deps.logger.error({ jid, err: error }, 'could not read a job this worker holds');
      return undefined;
    }
  }

  private ours(jid: string, json: JobJson | null): JobJson | undefined {
    if (json?.state === 'running' && json.worker === this.name) return json;
    this.deps.logger.info({ jid, state: json?.state }, 'job no longer ours: left alone');
    return undefined;
  }

  /** Gives a job back to its queue at once (it costs one retry, as any hand-back); false if refused. */
  private async handBack(json: JobJson): Promise<boolean> {
    const { client, logger } = this.deps;
    try {
      const remaining = await client.jobs.retryAs(this.name, json, { delay: 0 });
      logger.info({ ...jobFields(json), remaining }, 'handed back a job this worker held without knowing it');
      return true;
    } catch (error) {
      if (error instanceof LostLockError) logger.info({ ...jobFields(json), err: error }, 'job no longer ours');
      else logger.error({ ...jobFields(json), err: error }, 'could not hand back a job this worker holds');
      return false;
    }
  }
}

function jobFields(json: JobJson): { jid: string; queue: string; klass: string } {
  return { jid: json.jid, queue: json.queue, klass: json.klass };
}
