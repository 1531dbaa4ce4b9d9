// 60,000 jobs through the defaults' pool (2 workers × concurrency 1), each worker's RSS sampled
// every 5 % of the jobs ended: memory a worker keeps per job shows as growth from early (10 %) to
// late (95 %), and as RSS that never settles; a V8 heap that sizes itself to the load, or code
// compiled as the job path warms up, grows early and then holds (the plateau).
import type { Fault } from '../fault.ts';
import { workJob } from '../jobs.ts';

/** CHAOS_SOAK_JOBS sets another count (a longer run shows whether a plateau holds). */
const JOBS = Number(process.env.CHAOS_SOAK_JOBS) || 60_000;
const WORKERS = 2;
const STEP = 0.05;
const EARLY = 0.1;
const LATE = 0.95;
/** From here to late, RSS within this band is a plateau. */
const SECOND_HALF = 0.5;
const PLATEAU_BAND_MB = 2;
/** Issue 12's bound on a worker's growth from early to late. */
const GROWTH_LIMIT_MB = 10;

const mb = (value: number | undefined): string => (value === undefined ? '?' : value.toFixed(1));
const percent = (share: number): string => `${Math.round(share * 100)} %`;

/** One RSS sample of the pool, taken once `share` of the jobs had ended. */
interface Sample {
  share: number;
  pids: (number | undefined)[];
  workersMb: (number | undefined)[];
  supervisorMb: number | undefined;
}

/** A worker's RSS over the second half of the run: a plateau when it stays within PLATEAU_BAND_MB. */
function secondHalf(series: readonly { share: number; mb: number }[]): string {
  const values = series.filter((sample) => sample.share >= SECOND_HALF - 1e-9).map((sample) => sample.mb);
  if (values.length === 0) return 'no samples in the second half';
  const low = Math.min(...values);
  const high = Math.max(...values);
  const what = high - low <= PLATEAU_BAND_MB ? 'plateau' : 'still moving';
  return `${what} over ${percent(SECOND_HALF)}–${percent(LATE)} of the jobs: ${mb(low)}–${mb(high)}`;
}

export const soak: Fault = {
  name: 'soak',
  async run(run) {
    const title = `${JOBS} jobs, ${WORKERS} workers × concurrency 1, no-op jobs; worker RSS every 5 % of the jobs`;
    run.progress(`${run.name}: ${title}`);
    await run.put(Array.from({ length: JOBS }, () => workJob(0)));
    const pool = run.startPool({ workers: WORKERS, concurrency: 1 });
    const samples: Sample[] = [];
    for (let step = 1; step * STEP <= LATE + 1e-9; step++) {
      const share = step * STEP;
      await run.waitEnded(Math.round(JOBS * share));
      const pids = pool.slotPids();
      const rss = pool.rss();
      samples.push({ share, pids, workersMb: rss.workersMb, supervisorMb: rss.supervisorMb });
    }
    const at = (share: number): Sample | undefined => samples.find((sample) => Math.abs(sample.share - share) < 1e-9);
    const early = at(EARLY);
    const late = at(LATE);
    for (let slot = 0; slot < WORKERS; slot++) {
      const pid = early?.pids[slot];
      // Only the samples of the process that was there early: a replaced worker starts again.
      const series = samples
        .filter((sample) => sample.share >= EARLY - 1e-9 && sample.pids[slot] === pid)
        .flatMap((sample) => {
          const value = sample.workersMb[slot];
          return value === undefined ? [] : [{ share: sample.share, mb: value }];
        });
      const earlyMb = early?.workersMb[slot];
      const lateMb = late?.pids[slot] === pid ? late?.workersMb[slot] : undefined;
      const growth = (lateMb ?? Number.NaN) - (earlyMb ?? Number.NaN);
      const peak = series.length > 0 ? Math.max(...series.map((sample) => sample.mb)) : undefined;
      run.note(
        `worker ${slot} (pid ${pid}) RSS MB: early ${mb(earlyMb)}, late ${mb(lateMb)}, growth ${growth.toFixed(1)}, ` +
          `peak ${mb(peak)}; ${secondHalf(series)}` +
          `${lateMb === undefined ? ` (a new process, pid ${late?.pids[slot]}, by the end)` : ''}`,
      );
      run.note(
        `  worker ${slot} RSS MB every 5 % from 5 %: ` +
          samples.map((sample) => (sample.pids[slot] === pid ? mb(sample.workersMb[slot]) : 'new')).join(' '),
      );
      run.check(
        `worker ${slot} RSS grew at most ${GROWTH_LIMIT_MB} MB from ${percent(EARLY)} to ` +
          `${percent(LATE)} of the jobs (${growth.toFixed(1)})`,
        growth <= GROWTH_LIMIT_MB,
      );
    }
    run.note(`supervisor RSS MB: early ${mb(early?.supervisorMb)}, late ${mb(late?.supervisorMb)}`);
    await run.waitDrained();
    return run.finish(title, pool);
  },
};
