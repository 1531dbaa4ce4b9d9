// Poison jobs among 1,000 normal ones: each kind ends failed in the group the README ("Handlers",
// "Restarts and the watchdog") documents, and every normal job completes. The 5 MB job is not
// refused by anything documented: it must complete with its 5 MB stored back intact.
import { newJid } from '../../../src/client/queue.ts';
import type { Fault } from '../fault.ts';
import { type JobSpec, workJob } from '../jobs.ts';
import { QUEUE } from '../settings.ts';

const NORMAL = 1_000;
const EACH = 2;
const WORKERS = 4;
const SLEEP_MS = 1;
const BIG_DATA_BYTES = 5 * 1024 * 1024;

function poisonJobs(): JobSpec[] {
  const failed = (group: string) => ({ state: 'failed' as const, group });
  const kinds: Omit<JobSpec, 'jid'>[] = [
    // The klass would leave --path.
    { kind: 'traversal', klass: '../../etc/passwd', data: {}, expected: failed(`${QUEUE}-InvalidKlass`) },
    { kind: 'traversal', klass: '/etc/passwd', data: {}, expected: failed(`${QUEUE}-InvalidKlass`) },
    { kind: 'import-throws', klass: 'import-throws', data: {}, expected: failed(`${QUEUE}-RangeError`) },
    { kind: 'exits', klass: 'exits', data: {}, expected: failed(`${QUEUE}-ProcessExitError`) },
    // Killed by the watchdog past its lock expiry; with no retry left the hand-back fails it.
    { kind: 'blocks', klass: 'blocks', data: {}, retries: 0, expected: failed(`failed-retries-${QUEUE}`) },
    {
      kind: 'big-data',
      klass: 'work',
      data: { sleepMs: 0, blob: 'x'.repeat(BIG_DATA_BYTES) },
      expected: { state: 'complete' },
    },
  ];
  return kinds.flatMap((kind) => Array.from({ length: EACH }, () => ({ ...kind, jid: newJid() })));
}

function shuffled<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other], items[index]];
  }
  return items;
}

export const poison: Fault = {
  name: 'poison',
  async run(run) {
    const poisonous = poisonJobs();
    const title =
      `${poisonous.length} poison jobs (${EACH} each: klass traversal ×2 kinds, module throws at import, ` +
      `process.exit, blocks the event loop, 5 MB of data) among ${NORMAL} normal ones ` +
      `(${WORKERS} workers × concurrency 1)`;
    run.progress(`${run.name}: ${title}`);
    await run.put(shuffled([...Array.from({ length: NORMAL }, () => workJob(SLEEP_MS)), ...poisonous]));
    const pool = run.startPool({ workers: WORKERS, concurrency: 1 });
    await run.waitDrained();
    const big = poisonous.filter((job) => job.kind === 'big-data');
    const pipeline = run.redis.pipeline();
    for (const job of big) pipeline.hget(`ql:j:${job.jid}`, 'data');
    const stored = ((await pipeline.exec()) ?? []).map(([, data]) =>
      typeof data === 'string' ? (JSON.parse(data) as { blob?: string }).blob?.length : undefined,
    );
    const lengths = stored.map((length) => length ?? 'none').join(', ');
    run.check(
      `the 5 MB jobs' data is stored back whole (${lengths} of ${BIG_DATA_BYTES} bytes)`,
      stored.every((length) => length === BIG_DATA_BYTES),
    );
    return run.finish(title, pool);
  },
};
