// Redis-side cost of the qless core script per call, as EVALSHA and as FCALL of the function
// library: usec_per_call from INFO commandstats after CONFIG RESETSTAT, over several rounds. The
// minimum is the least disturbed round (the machine is shared); the median is shown beside it.
// Run: node --import tsx bench/core.ts [calls-per-round] [rounds]
import { Redis } from 'ioredis';
import { functionLibrarySource, scriptSha, scriptSource } from '../src/client/script.ts';
import { startRedis } from '../test/helpers/redis.ts';

const CALLS = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 7);
const NOW = 1700000000;
const BATCH = 200;

type Args = (string | number)[];
type Mode = 'evalsha' | 'fcall';

interface Case {
  name: string;
  /** Writes whatever the measured calls need (not measured); returns their arguments. */
  prepare(core: (args: Args) => Promise<unknown>): Promise<Args[]>;
}

const jids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

async function putJobs(core: (args: Args) => Promise<unknown>, ids: string[]): Promise<void> {
  for (const jid of ids) await core(['put', NOW, 'w', 'q', jid, 'K', '{}', 0]);
}

async function runningJobs(core: (args: Args) => Promise<unknown>, ids: string[]): Promise<void> {
  await putJobs(core, ids);
  for (let i = 0; i < ids.length; i += 10) await core(['pop', NOW, 'q', 'w', 10]);
}

const cases: Case[] = [
  { name: 'return 1 (trivial script)', prepare: async () => Array.from({ length: CALLS }, () => ['noop']) },
  { name: 'config.get heartbeat', prepare: async () => Array.from({ length: CALLS }, () => ['config.get', NOW, 'heartbeat']) },
  {
    name: 'put (new job)',
    prepare: async () => jids('p', CALLS).map((jid) => ['put', NOW, 'w', 'q', jid, 'K', '{"n":1}', 0]),
  },
  {
    name: 'pop 1',
    prepare: async (core) => {
      await putJobs(core, jids('j', CALLS));
      return Array.from({ length: CALLS }, () => ['pop', NOW, 'q', 'w', 1]);
    },
  },
  {
    name: 'pop 10',
    prepare: async (core) => {
      await putJobs(core, jids('j', CALLS * 10));
      return Array.from({ length: CALLS }, () => ['pop', NOW, 'q', 'w', 10]);
    },
  },
  {
    name: 'heartbeat',
    prepare: async (core) => {
      const ids = jids('h', CALLS);
      await runningJobs(core, ids);
      return ids.map((jid) => ['heartbeat', NOW + 1, jid, 'w']);
    },
  },
  {
    name: 'complete',
    prepare: async (core) => {
      const ids = jids('c', CALLS);
      await runningJobs(core, ids);
      return ids.map((jid) => ['complete', NOW + 1, jid, 'w', 'q', '{}']);
    },
  },
];

async function usecPerCall(redis: Redis, command: Mode): Promise<number> {
  const info = await redis.info('commandstats');
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+),usec=(\\d+),usec_per_call=([\\d.]+)`).exec(info);
  if (!match) throw new Error(`no ${command} in INFO commandstats`);
  return Number(match[3]);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function main(): Promise<void> {
  const server = await startRedis();
  const redis = new Redis(server.url);
  try {
    await redis.script('LOAD', scriptSource());
    await redis.function('LOAD', 'REPLACE', functionLibrarySource());
    const noopSha = (await redis.script('LOAD', 'return 1')) as string;
    await redis.function('LOAD', 'REPLACE', "#!lua name=bench\nredis.register_function('noop', function() return 1 end)");
    const sha = scriptSha();

    // Set-up always goes through EVALSHA; only the measured calls differ by mode.
    const setup = (args: Args) => redis.evalsha(sha, 0, ...args.map(String));
    const send = async (mode: Mode, calls: Args[]): Promise<void> => {
      for (let i = 0; i < calls.length; i += BATCH) {
        const pipeline = redis.pipeline();
        for (const args of calls.slice(i, i + BATCH)) {
          const noop = args[0] === 'noop';
          if (mode === 'evalsha') pipeline.evalsha(noop ? noopSha : sha, 0, ...(noop ? [] : args.map(String)));
          else pipeline.fcall(noop ? 'noop' : 'qless', 0, ...(noop ? [] : args.map(String)));
        }
        const results = (await pipeline.exec()) ?? [];
        const failed = results.find(([error]) => error);
        if (failed) throw failed[0];
      }
    };

    const rows: [string, number[], number[]][] = [];
    for (const benchCase of cases) {
      const perMode: Record<Mode, number[]> = { evalsha: [], fcall: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of ['evalsha', 'fcall'] as const) {
          await redis.flushdb();
          const calls = await benchCase.prepare(setup);
          await redis.config('RESETSTAT');
          await send(mode, calls);
          perMode[mode].push(await usecPerCall(redis, mode));
        }
      }
      rows.push([benchCase.name, perMode.evalsha, perMode.fcall]);
    }

    const cell = (values: number[]) => `${Math.min(...values).toFixed(2)} / ${median(values).toFixed(2)}`.padStart(18);
    console.log(`Redis-side µs per call, min / median of ${ROUNDS} rounds × ${CALLS} calls (INFO commandstats)`);
    console.log(`${'command'.padEnd(28)}${'EVALSHA'.padStart(18)}${'FCALL'.padStart(18)}`);
    for (const [name, evalsha, fcall] of rows) {
      console.log(`${name.padEnd(28)}${cell(evalsha)}${cell(fcall)}`);
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

await main();
