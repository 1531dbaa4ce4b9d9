// Redis frozen (SIGSTOP) for 12 s under load, then thawed (SIGCONT): its connections stay open,
// every call waits. With a 30 s heartbeat no lock can expire meanwhile (see settings.ts), so no
// job may be run twice, lost or stranded.
import type { Fault } from '../fault.ts';
import { sleep } from '../fault-run.ts';
import { workJob } from '../jobs.ts';

const JOBS = 10_000;
const WORKERS = 4;
const SLEEP_MS = 1;
const FREEZE_MS = 12_000;
const FREEZE_AFTER_ENDED = 2_000;

export const redisFreeze: Fault = {
  name: 'redis-freeze',
  async run(run) {
    const title =
      `Redis frozen (SIGSTOP) for ${FREEZE_MS / 1000} s, then SIGCONT, under ${JOBS} jobs ` +
      `(${WORKERS} workers × concurrency 1, jobs of ${SLEEP_MS} ms)`;
    run.progress(`${run.name}: ${title}`);
    await run.put(Array.from({ length: JOBS }, () => workJob(SLEEP_MS)));
    const pool = run.startPool({ workers: WORKERS, concurrency: 1 });
    await run.waitEnded(FREEZE_AFTER_ENDED);
    run.watch.outageBegins();
    run.server.freeze();
    await sleep(FREEZE_MS);
    run.server.thaw();
    run.watch.outageEnds();
    run.progress(`  Redis frozen ${FREEZE_MS} ms, thawed`);
    await run.waitDrained();
    return run.finish(title, pool);
  },
};
