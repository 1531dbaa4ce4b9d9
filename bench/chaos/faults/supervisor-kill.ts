// kill -9 of the supervisor under load: its workers notice (their IPC channel closes), finish
// the jobs they hold and exit, so within a few seconds no process of the pool is left. A new
// pool (same worker names, no --resume) then finishes everything.
import { isAlive, groupMembers } from '../processes.ts';
import type { Fault } from '../fault.ts';
import { sleep } from '../fault-run.ts';
import { workJob } from '../jobs.ts';

const JOBS = 6_000;
const WORKERS = 4;
const SLEEP_MS = 2;
const KILL_AFTER_ENDED = 1_000;
const GONE_LIMIT_MS = 5_000;

export const supervisorKill: Fault = {
  name: 'supervisor-kill',
  async run(run) {
    const title =
      `kill -9 of the supervisor after ${KILL_AFTER_ENDED} of ${JOBS} jobs (${WORKERS} workers × concurrency 1, ` +
      `jobs of ${SLEEP_MS} ms), then a new pool`;
    run.progress(`${run.name}: ${title}`);
    await run.put(Array.from({ length: JOBS }, () => workJob(SLEEP_MS)));
    const first = run.startPool({ workers: WORKERS, concurrency: 1 });
    await run.waitEnded(KILL_AFTER_ENDED);
    const workers = first.slotPids().filter((pid): pid is number => pid !== undefined);
    const killedAt = Date.now();
    process.kill(first.pid, 'SIGKILL');
    run.kills++;
    run.progress(`  kill -9 supervisor pid ${first.pid} (workers ${workers.join(', ')})`);
    let left = groupMembers(first.pid);
    while (left.length > 0 && Date.now() - killedAt < GONE_LIMIT_MS) {
      await sleep(20);
      left = groupMembers(first.pid);
    }
    const goneMs = Date.now() - killedAt;
    run.check(
      `no process of the pool left ${GONE_LIMIT_MS / 1000} s after the kill ` +
        `(${left.length === 0 ? `all gone after ${goneMs} ms` : `left: ${left.join(', ')}`})`,
      left.length === 0 && workers.every((pid) => !isAlive(pid)),
    );
    first.killGroup();
    const running = await run.redis.zcard('ql:q:chaos-locks');
    run.note(`jobs locked when the old pool was gone: ${running}; ${await run.ended()} of ${JOBS} ended`);
    const second = run.startPool({ workers: WORKERS, concurrency: 1 });
    await run.waitDrained();
    return run.finish(title, second);
  },
};
