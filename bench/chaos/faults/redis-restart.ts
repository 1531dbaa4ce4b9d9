// Redis stopped (SIGTERM: it writes its AOF out) and started again on the same port and data
// (`appendonly yes`) while 20,000 jobs drain, RESTARTS times, DOWN_MS down each time. Nothing
// may be lost or run twice, and no job may sit locked under a worker that does not run it: a
// pop whose reply was lost in the restart leaves such a job until its lock expires, which the
// strand watch reports (about HEARTBEAT_S + GRACE_PERIOD_S, far past the 10 s bound).
import type { Fault } from '../fault.ts';
import { sleep } from '../fault-run.ts';
import { workJob } from '../jobs.ts';

const JOBS = 20_000;
const WORKERS = 4;
const SLEEP_MS = 1;
const RESTARTS = 3;
const DOWN_MS = 1_000;
/** The first restart once this many jobs ended, then one every GAP_MS. */
const FIRST_AFTER_ENDED = 2_000;
const GAP_MS = 4_000;

export const redisRestart: Fault = {
  name: 'redis-restart',
  appendonly: true,
  async run(run) {
    const title =
      `Redis (appendonly yes) stopped and started again ${DOWN_MS / 1000} s later, ${RESTARTS} times, under ` +
      `${JOBS} jobs (${WORKERS} workers × concurrency 1, jobs of ${SLEEP_MS} ms)`;
    run.progress(`${run.name}: ${title}`);
    await run.put(Array.from({ length: JOBS }, () => workJob(SLEEP_MS)));
    const pool = run.startPool({ workers: WORKERS, concurrency: 1 });
    await run.waitEnded(FIRST_AFTER_ENDED);
    for (let restart = 1; restart <= RESTARTS; restart++) {
      const ended = await run.ended();
      if (ended >= JOBS) {
        run.note(`restart ${restart} not done: the jobs had drained`);
        break;
      }
      run.watch.outageBegins();
      const stopAt = Date.now();
      await run.server.stop();
      await sleep(DOWN_MS);
      await run.server.startProcess();
      run.watch.outageEnds();
      run.progress(`  restart ${restart}: Redis down ${Date.now() - stopAt} ms (${ended} jobs had ended)`);
      if (restart < RESTARTS) await sleep(GAP_MS);
    }
    await run.waitDrained();
    return run.finish(title, pool);
  },
};
