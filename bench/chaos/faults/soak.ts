// 60,000 jobs through the defaults' pool (2 workers × concurrency 1), each worker's RSS sampled
// early (10 % of the jobs ended) and late (95 %): memory a worker keeps per job shows as growth.
import type { Fault } from '../fault.ts';
import { workJob } from '../jobs.ts';

const JOBS = 60_000;
const WORKERS = 2;
const EARLY = 0.1;
const LATE = 0.95;

const mb = (value: number | undefined): string => (value === undefined ? '?' : value.toFixed(1));

export const soak: Fault = {
  name: 'soak',
  async run(run) {
    const title = `${JOBS} jobs, ${WORKERS} workers × concurrency 1, no-op jobs; RSS early and late`;
    run.progress(`${run.name}: ${title}`);
    await run.put(Array.from({ length: JOBS }, () => workJob(0)));
    const pool = run.startPool({ workers: WORKERS, concurrency: 1 });
    await run.waitEnded(JOBS * EARLY);
    const earlyPids = pool.slotPids();
    const early = pool.rss();
    await run.waitEnded(JOBS * LATE);
    const latePids = pool.slotPids();
    const late = pool.rss();
    earlyPids.forEach((pid, slot) => {
      const same = pid === latePids[slot] ? '' : ` (a new process, pid ${latePids[slot]}, by then)`;
      const growth = (late.workersMb[slot] ?? Number.NaN) - (early.workersMb[slot] ?? Number.NaN);
      run.note(
        `worker ${slot} (pid ${pid}) RSS MB: early ${mb(early.workersMb[slot])}, late ${mb(late.workersMb[slot])}, ` +
          `growth ${growth.toFixed(1)}${same}`,
      );
    });
    run.note(`supervisor RSS MB: early ${mb(early.supervisorMb)}, late ${mb(late.supervisorMb)}`);
    await run.waitDrained();
    return run.finish(title, pool);
  },
};
