// The defaults part's lines in the bench report: each figure with ours, the baseline's and their
// ratio (medians of the rounds), and every round's value; the targets of issue 12.
import { type Comparison, DEFAULT_INTERVAL_S, DEFAULT_POOL, type DefaultsResult, IDLE_SETTLE_MS } from './defaults.ts';
import { fixed, table, verdict } from './report-table.ts';

export const DEFAULTS_TARGETS = {
  /** Drain rate at the defaults from the pool's spawn, as a multiple of the baseline's (issue 12 names 1bac768). */
  defaultsSpeedupOverBaseline: 1.6,
  /** Supervisor and workers of an idle pool at the defaults, RSS together. */
  defaultsIdlePoolRssMb: 150,
} as const;

export interface DefaultsMet {
  /** Judged only with a baseline and the pool at the defaults measured. */
  defaultsThroughput?: boolean;
  defaultsIdleRss: boolean;
  /** Every other pool's drain rate at least the baseline's (the lead kept, no drop at concurrency 8). */
  defaultsOtherPools?: boolean;
}

const DIGITS: Record<Comparison['unit'], number> = { 'jobs/s': 0, ms: 0, 'µs/job': 1, MiB: 1 };

export function defaultsMet(result: DefaultsResult): DefaultsMet {
  const totalRss = result.idleMemory.find((figure) => figure.key === 'totalRss');
  const met: DefaultsMet = {
    defaultsIdleRss: (totalRss?.oursMedian ?? Number.NaN) <= DEFAULTS_TARGETS.defaultsIdlePoolRssMb,
  };
  if (!result.baseline) return met;
  const drain = result.atDefaults?.find((figure) => figure.key === 'jobsPerSecondFromSpawn');
  if (drain) met.defaultsThroughput = (drain.ratio ?? Number.NaN) >= DEFAULTS_TARGETS.defaultsSpeedupOverBaseline;
  const others = result.byPool.filter(
    (pool) => pool.workers !== DEFAULT_POOL.workers || pool.concurrency !== DEFAULT_POOL.concurrency,
  );
  if (others.length > 0)
    met.defaultsOtherPools = others.every((pool) => (pool.jobsPerSecondFromSpawn.ratio ?? Number.NaN) >= 1);
  return met;
}

/** Rows of figures: median (and each round) of ours, with the baseline beside when there is one. */
function comparisonTable(first: string, figures: Comparison[], withBaseline: boolean): string[] {
  const headers = withBaseline
    ? [first, 'unit', 'ours', 'baseline', 'ours ÷ baseline', 'rounds ours', 'rounds baseline']
    : [first, 'unit', 'ours', 'rounds'];
  return table(
    headers,
    figures.map((figure) => {
      const digits = DIGITS[figure.unit];
      const rounds = (values: number[]): string => values.map((value) => fixed(value, digits)).join(', ');
      const ours = fixed(figure.oursMedian, digits);
      return withBaseline
        ? [
            figure.figure,
            figure.unit,
            ours,
            fixed(figure.baselineMedian ?? Number.NaN, digits),
            fixed(figure.ratio ?? Number.NaN, 2),
            rounds(figure.ours),
            rounds(figure.baseline),
          ]
        : [figure.figure, figure.unit, ours, rounds(figure.ours)];
    }),
  );
}

export function formatDefaults(result: DefaultsResult, met: Partial<DefaultsMet>): string[] {
  const withBaseline = result.baseline !== undefined;
  const pool = `--workers ${DEFAULT_POOL.workers} --concurrency ${DEFAULT_POOL.concurrency}`;
  const ours = `ours = commit ${result.ours.commit}${result.ours.dirty ? ' with uncommitted changes' : ''}`;
  const out = [
    '',
    `7. At the defaults (${pool}): ${result.jobs} no-op jobs put first, then the pool is spawned on them; ` +
      `median of ${result.rounds} round(s)`,
    withBaseline
      ? `${ours}; baseline = commit ${result.baseline?.short} (its own bin/qless-worker, the same handlers ` +
        'and redis-server), run in turns'
      : ours,
  ];
  if (result.atDefaults) {
    out.push(...comparisonTable('figure', result.atDefaults, withBaseline));
    if (met.defaultsThroughput !== undefined)
      out.push(
        `target: jobs/s from spawn ≥ ${DEFAULTS_TARGETS.defaultsSpeedupOverBaseline} × the baseline's: ` +
          verdict(met.defaultsThroughput),
      );
  }
  out.push('', 'jobs/s, spawn → last completion, by pool (workers x concurrency)');
  out.push(
    ...comparisonTable(
      'pool',
      result.byPool.map((entry) => entry.jobsPerSecondFromSpawn),
      withBaseline,
    ),
  );
  if (met.defaultsOtherPools !== undefined)
    out.push(`other pools at least as fast as the baseline: ${verdict(met.defaultsOtherPools)}`);
  out.push(
    '',
    `idle pool at the defaults (${DEFAULT_POOL.workers} workers, --interval ${DEFAULT_INTERVAL_S}), ` +
      `${IDLE_SETTLE_MS / 1000} s after every worker polled, before any job`,
  );
  out.push(...comparisonTable('process', result.idleMemory, withBaseline));
  out.push(`target: total RSS ≤ ${DEFAULTS_TARGETS.defaultsIdlePoolRssMb} MiB: ${verdict(met.defaultsIdleRss)}`);
  return out;
}
