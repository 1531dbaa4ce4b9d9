// The dashboard bench's load driver, run as a child process (bench/load-driver.ts forks it): it
// acts as a few qless workers through our client, popping jobs in batches and completing each of
// them in one pipeline, paced to a target rate. The pops and completes go through the same qless
// script as a real pool's, so Redis's state and the `ql:log` events the dashboard hears are the same.
import { Redis } from 'ioredis';
import { Client } from '../src/client/client.ts';

/** What the bench sends first: where and how fast to work. */
export interface DriverSettings {
  redisUrl: string;
  /** Queues popped in turn. */
  queues: string[];
  /** Target completions a second. */
  rate: number;
  /** Jobs a pop asks for (and completes in one pipeline). */
  batch: number;
  /** Worker names working at once (each with one batch in flight at most). */
  lanes: number;
}

export type ParentMessage = { type: 'run'; settings: DriverSettings } | { type: 'stop' };

export interface DriverTally {
  /** Completes that Redis accepted. */
  completed: number;
  /** Completes that Redis refused (e.g. a lock lost), and the first such error. */
  refused: number;
  firstRefusal?: string;
  /** Pops that returned fewer jobs than asked for (the queues ran low). */
  shortPops: number;
  /** Jobs left out of the pace because the driver had fallen more than MAX_BEHIND_S behind. */
  skipped: number;
  seconds: number;
}

export type ChildMessage =
  | { type: 'running' }
  | { type: 'stopped'; tally: DriverTally }
  | { type: 'failed'; message: string };

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

/** How far (in seconds of the target rate) the driver may fall behind and still catch up. */
const MAX_BEHIND_S = 0.25;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function drive(settings: DriverSettings, stopping: () => boolean): Promise<DriverTally> {
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 1 });
  const tally: DriverTally = { completed: 0, refused: 0, shortPops: 0, skipped: 0, seconds: 0 };
  await redis.ping();
  send({ type: 'running' });
  const started = performance.now();
  // Jobs handed to lanes so far: a lane takes a full batch once that many more are due.
  let issued = 0;
  let next = 0;
  try {
    const lane = async (index: number): Promise<void> => {
      const client = new Client({ redis, workerName: `bench-driver-${index}` });
      while (!stopping()) {
        const elapsed = performance.now() - started;
        const dueAt = ((issued + settings.batch) / settings.rate) * 1000;
        if (dueAt > elapsed) {
          await sleep(Math.max(1, dueAt - elapsed));
          continue;
        }
        // Fallen further behind than MAX_BEHIND_S (Redis or this process waited for a core): those
        // jobs are skipped, not made up in a long burst above the target rate.
        const behind = Math.floor((elapsed / 1000) * settings.rate) - issued - settings.rate * MAX_BEHIND_S;
        if (behind > 0) {
          issued += behind;
          tally.skipped += behind;
        }
        issued += settings.batch;
        const queue = settings.queues[next++ % settings.queues.length];
        const jobs = await client.queue(queue).pop(settings.batch);
        if (jobs.length < settings.batch) {
          tally.shortPops += 1;
          issued -= settings.batch - jobs.length;
          // Ran low: give the other queues a turn instead of spinning on this one.
          if (jobs.length === 0) await sleep(5);
        }
        if (jobs.length === 0) continue;
        const batch = client.batch();
        for (const job of jobs) batch.complete(job);
        for (const result of await batch.exec()) {
          if (result.ok) tally.completed += 1;
          else {
            tally.refused += 1;
            tally.firstRefusal ??= result.error.message;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: settings.lanes }, (_, index) => lane(index)));
  } finally {
    tally.seconds = (performance.now() - started) / 1000;
    redis.disconnect();
  }
  return tally;
}

let stop = false;
let running = false;
process.on('message', (message: ParentMessage) => {
  if (message.type === 'stop') {
    stop = true;
    return;
  }
  if (running) return;
  running = true;
  drive(message.settings, () => stop).then(
    (tally) => {
      send({ type: 'stopped', tally });
      process.disconnect();
    },
    (error: unknown) => {
      send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      process.disconnect();
    },
  );
});
// The bench went away: nothing is left running.
process.on('disconnect', () => process.exit(stop ? 0 : 1));
