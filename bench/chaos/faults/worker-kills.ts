// kill -9 of a random worker every 1.5–3 s while 20,000 jobs drain. Each kill may cost the job in
// flight one more run (the supervisor hands it back at once), so jobs run twice may reach the
// number of kills (concurrency 1: one job in flight per worker), never more.
import type { Fault } from '../fault.ts';
import { sleep } from '../fault-run.ts';
import { workJob } from '../jobs.ts';

const JOBS = 20_000;
const WORKERS = 4;
const SLEEP_MS = 1;
const MIN_GAP_MS = 1_500;
const MAX_GAP_MS = 3_000;

export const workerKills: Fault = {
  name: 'worker-kills',
  async run(run) {
    const title =
      `kill -9 of a random worker every ${MIN_GAP_MS / 1000}–${MAX_GAP_MS / 1000} s under ${JOBS} jobs ` +
      `(${WORKERS} workers × concurrency 1, jobs of ${SLEEP_MS} ms)`;
    run.progress(`${run.name}: ${title}`);
    await run.put(Array.from({ length: JOBS }, () => workJob(SLEEP_MS)));
    const pool = run.startPool({ workers: WORKERS, concurrency: 1 });
    let drained = false;
    const draining = run.waitDrained().then((done) => {
      drained = true;
      return done;
    });
    while (!drained) {
      const gap = MIN_GAP_MS + Math.random() * (MAX_GAP_MS - MIN_GAP_MS);
      const until = Date.now() + gap;
      while (!drained && Date.now() < until) await sleep(50);
      if (drained) break;
      const live = pool.slotPids().filter((pid): pid is number => pid !== undefined);
      const victim = live[Math.floor(Math.random() * live.length)];
      if (victim === undefined) continue;
      process.kill(victim, 'SIGKILL');
      run.kills++;
      run.progress(`  kill -9 worker pid ${victim} (kill ${run.kills}, ${await run.ended()} jobs ended)`);
    }
    await draining;
    return run.finish(title, pool);
  },
};
