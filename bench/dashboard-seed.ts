// The dashboard bench's data: `jobs` jobs across `queues` queues, put through the qless script in
// pipelines, with some of every state a page shows (scheduled, running, stalled, failed,
// completed, depends, recurring, tagged); and more waiting jobs for a live window (putWaiting).
import type { BenchRedis } from './bench-redis.ts';
import { newJid } from './bench-redis.ts';

const PIPELINE = 2_000;
const IN_FLIGHT = 3;

export const queueName = (index: number): string => `q-${String(index).padStart(3, '0')}`;

export interface SeedSummary {
  jobs: number;
  queues: number;
  seconds: number;
  putsPerSecond: number;
}

/** Sends the calls in pipelines, a few in flight at once so Redis never waits for the next one. */
async function send(redis: BenchRedis, calls: [string, ...(string | number)[]][]): Promise<void> {
  const pipelines: Promise<void>[] = [];
  for (let start = 0; start < calls.length; start += PIPELINE) {
    const batch = redis.client.batch();
    for (const [command, ...args] of calls.slice(start, start + PIPELINE)) batch.call(command, ...args);
    pipelines.push(
      batch.exec().then((results) => {
        const failed = results.find((result) => !result.ok);
        if (failed && !failed.ok) throw failed.error;
      }),
    );
    if (pipelines.length >= IN_FLIGHT) await pipelines.shift();
  }
  await Promise.all(pipelines);
}

export async function seedJobs(
  redis: BenchRedis,
  jobs: number,
  queues: number,
  progress: (line: string) => void,
): Promise<SeedSummary> {
  const started = performance.now();
  const perQueue = Math.floor(jobs / queues);
  const worker = 'bench-seed';
  for (let q = 0; q < queues; q++) {
    const queue = queueName(q);
    const calls: [string, ...(string | number)[]][] = [];
    let parent = '';
    for (let i = 0; i < perQueue; i++) {
      const jid = newJid();
      const args: [string, ...(string | number)[]] = [
        'put',
        worker,
        queue,
        jid,
        'noop',
        JSON.stringify({ order: q * perQueue + i, user: { id: i % 5000 } }),
        i % 20 === 1 ? 3600 : 0,
        'priority',
        i % 3,
      ];
      if (i % 10 === 0) args.push('tags', JSON.stringify([`tag-${q % 10}`]));
      // A few jobs wait for another (depends).
      if (i % 500 === 3 && parent !== '') args.push('depends', JSON.stringify([parent]));
      if (i % 500 === 2) parent = jid;
      calls.push(args);
    }
    calls.push(['recur', queue, `${queue}-recur`, 'noop', '{}', 'interval', 3600, 3600]);
    await send(redis, calls);
    // Some running (locks held by a seed worker that never finishes), completed and failed jobs.
    const popped = (await redis.client.queue(queue).pop(60)).map((job) => job);
    await send(
      redis,
      popped
        .slice(0, 30)
        .map((job) => ['complete', job.jid, redis.client.workerName, queue, '{}'] as [string, ...string[]]),
    );
    await send(
      redis,
      popped
        .slice(30, 50)
        .map(
          (job) =>
            ['fail', job.jid, redis.client.workerName, `${queue}-Error`, 'Error: upstream timed out'] as [
              string,
              ...string[],
            ],
        ),
    );
    if ((q + 1) % 10 === 0) progress(`dashboard: put ${((q + 1) * perQueue).toLocaleString('en-US')} jobs`);
  }
  const seconds = (performance.now() - started) / 1000;
  return { jobs: perQueue * queues, queues, seconds, putsPerSecond: (perQueue * queues) / seconds };
}

/** Puts `count` more waiting jobs (data like the seed's) into `queue`, so a live window does not run dry. */
export async function putWaiting(redis: BenchRedis, queue: string, count: number): Promise<void> {
  const calls: [string, ...(string | number)[]][] = [];
  for (let i = 0; i < count; i++)
    calls.push([
      'put',
      'bench-seed',
      queue,
      newJid(),
      'noop',
      JSON.stringify({ order: -1 - i, user: { id: i % 5000 } }),
      0,
      'priority',
      i % 3,
    ]);
  await send(redis, calls);
}
