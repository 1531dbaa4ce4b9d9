// Part 3, replacement: kill -9 one worker of an idle pool and time until the slot's new worker
// is popping again: its first pop writes the slot's name into `ql:workers` with the script's
// `now` as score (names are stable per slot), so kill time → that score. The dead worker was
// asleep for --interval, so a score after the kill is the new worker's. Slots are killed in turn,
// each worker having run well past the supervisor's "died young" limit (no restart backoff).
import { join } from 'node:path';
import type { BenchRedis } from './bench-redis.ts';
import { epochMs } from './clock.ts';
import { BenchPool } from './pool.ts';
import { median } from './statistics.ts';
import type { IdlePartSettings } from './options.ts';

const QUEUE = 'bench-replacement';
const WORKERS = 2;
/** A worker killed less than 1 s after it was ready counts as dying young; stay well clear. */
const SETTLE_MS = 1_500;
const POLL_MS = 5;
const REPLACEMENT_TIMEOUT_MS = 30_000;

interface ReplacementSample {
  slot: number;
  killedPid: number;
  newPid: number | undefined;
  ms: number;
}

export interface ReplacementResult {
  workers: number;
  samples: ReplacementSample[];
  medianMs: number;
  maxMs: number;
}

interface ReplacementSettings extends IdlePartSettings {
  kills: number;
}

async function firstPopAfter(bench: BenchRedis, name: string, since: number): Promise<number> {
  const deadline = Date.now() + REPLACEMENT_TIMEOUT_MS;
  for (;;) {
    const score = await bench.redis.zscore('ql:workers', name);
    if (score !== null && Number(score) * 1000 > since) return Number(score) * 1000;
    if (Date.now() > deadline)
      throw new Error(`${name} was not popping again ${REPLACEMENT_TIMEOUT_MS} ms after its worker was killed`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function newPidOf(pool: BenchPool, slot: number, old: number): Promise<number | undefined> {
  // The supervisor logs the fork before the worker is ready, so this is normally there already.
  for (let tries = 0; tries < 100; tries++) {
    const pid = pool.slotPids()[slot];
    if (pid !== undefined && pid !== old) return pid;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

export async function measureReplacement(bench: BenchRedis, settings: ReplacementSettings): Promise<ReplacementResult> {
  settings.progress(`replacement: kill -9 a worker of an idle pool of ${WORKERS}, ${settings.kills} times`);
  await bench.reset(0);
  const pool = BenchPool.startIdle(bench.url, settings, {
    queue: QUEUE,
    workers: WORKERS,
    dir: join(settings.dir, 'replacement'),
  });
  const samples: ReplacementSample[] = [];
  try {
    await pool.waitUntilPolling(bench.redis);
    for (let kill = 0; kill < settings.kills; kill++) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const slot = kill % WORKERS;
      const killedPid = pool.slotPids()[slot];
      if (killedPid === undefined) throw new Error(`no worker pid known for slot ${slot}; see ${pool.logFile}`);
      const killedAt = epochMs();
      process.kill(killedPid, 'SIGKILL');
      const poppingAt = await firstPopAfter(bench, pool.names[slot], killedAt);
      const newPid = await newPidOf(pool, slot, killedPid);
      samples.push({ slot, killedPid, newPid, ms: poppingAt - killedAt });
      const popping = `pid ${newPid ?? '?'} popping after ${(poppingAt - killedAt).toFixed(0)} ms`;
      settings.progress(`  slot ${slot}: pid ${killedPid} killed, ${popping}`);
    }
  } finally {
    await pool.stop();
  }
  const times = samples.map((sample) => sample.ms);
  return { workers: WORKERS, samples, medianMs: median(times), maxMs: Math.max(...times) };
}
