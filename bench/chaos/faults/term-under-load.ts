// TERM to the supervisor under load: the pool stops within --shutdown-timeout with exit code 0,
// leaves no process and no job running (jobs in flight end or are handed back). A new pool then
// finishes what is left.
import type { Fault } from '../fault.ts';
import { workJob } from '../jobs.ts';

const JOBS = 6_000;
const WORKERS = 4;
const CONCURRENCY = 2;
const MAX_SLEEP_MS = 50;
const TERM_AFTER_ENDED = 1_000;

export const termUnderLoad: Fault = {
  name: 'term-under-load',
  async run(run) {
    const title =
      `TERM to the supervisor after ${TERM_AFTER_ENDED} of ${JOBS} jobs (${WORKERS} workers × concurrency ` +
      `${CONCURRENCY}, jobs of 0–${MAX_SLEEP_MS} ms), then a new pool`;
    run.progress(`${run.name}: ${title}`);
    await run.put(Array.from({ length: JOBS }, () => workJob(Math.floor(Math.random() * (MAX_SLEEP_MS + 1)))));
    const first = run.startPool({ workers: WORKERS, concurrency: CONCURRENCY });
    await run.waitEnded(TERM_AFTER_ENDED);
    const termAt = Date.now();
    const stopped = await run.stopPool(first);
    const stopMs = Date.now() - termAt;
    const running = await run.redis.zcard('ql:q:chaos-locks');
    run.check(
      `exit code 0 after TERM (got ${stopped.code ?? stopped.signal}, in ${stopMs} ms), ` +
        `no process left (${stopped.left.length}), no job left running (${running})`,
      stopped.code === 0 && stopped.left.length === 0 && running === 0,
    );
    run.note(`${await run.ended()} of ${JOBS} ended at the TERM's exit`);
    const second = run.startPool({ workers: WORKERS, concurrency: CONCURRENCY });
    await run.waitDrained();
    return run.finish(title, second);
  },
};
