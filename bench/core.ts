// Redis-side cost of the qless core script per call, as EVALSHA and as FCALL of the function
// library, over several rounds: usec_per_call from INFO commandstats after CONFIG RESETSTAT (wall
// time inside the command, so a busy machine inflates it), and the CPU time of Redis's main
// thread per call (INFO cpu: not inflated while Redis waits for a core, but it includes reading
// and answering the pipelined calls, about a trivial script's figure). The minimum is the least
// disturbed round (the machine is shared); the median is shown beside it. Beside them, the Redis
// commands the script ran (redis.call) per call and per job, counted in the same commandstats:
// they do not depend on the machine's load.
// With --baseline <file.lua> another build of the script (e.g. `git show HEAD~5:src/lua/qless.lua`)
// is measured in the same rounds, interleaved, so both see the same load.
// --only <names> measures only the cases whose name starts with one of the comma-separated names.
// --instructions runs redis-server under valgrind's callgrind and reports the instructions it
// executes per call instead of times: the same on a busy machine as on an idle one, so small
// changes show (default 200 calls, 1 round; needs valgrind).
// Run: node --import tsx bench/core.ts [calls-per-round] [rounds] [--baseline <file.lua>] [--only <names>]
//      [--instructions]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { functionLibraryFrom, scriptSource } from '../src/client/script.ts';
import { dataNodeArgs, freePort, startRedis } from '../test/helpers/redis.ts';

const usage =
  'usage: node --import tsx bench/core.ts [calls-per-round] [rounds] [--baseline <file.lua>] [--only <names>]' +
  ' [--instructions]';
const positional = process.argv.slice(2);
const instructionsAt = positional.indexOf('--instructions');
const INSTRUCTIONS = instructionsAt >= 0;
if (INSTRUCTIONS) positional.splice(instructionsAt, 1);
/** Removes `--name value` from the arguments and returns the value. */
function option(name: string): string | undefined {
  const at = positional.indexOf(name);
  if (at < 0) return undefined;
  const value = positional[at + 1];
  if (value === undefined) throw new Error(usage);
  positional.splice(at, 2);
  return value;
}
const baselinePath = option('--baseline');
const only = option('--only')?.split(',');
const CALLS = Number(positional[0] ?? (INSTRUCTIONS ? 200 : 1000));
const ROUNDS = Number(positional[1] ?? (INSTRUCTIONS ? 1 : 7));
if (!Number.isInteger(CALLS) || CALLS < 1 || !Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(usage);
const NOW = 1700000000;
const BATCH = 200;

type Args = (string | number)[];
type Mode = 'evalsha' | 'fcall';
type Core = (args: Args) => Promise<unknown>;

interface Case {
  name: string;
  /** Jobs each measured call handles (pop n: n), for the per-job columns; 0 = not about jobs. */
  jobs: number;
  /** A command the script must know for this case to run (older builds lack extensions). */
  needs?: string;
  /** Writes whatever the measured calls need (not measured); returns their arguments. */
  prepare(core: Core): Promise<Args[]>;
}

interface Variant {
  label: string;
  source: string;
  sha: string;
  library: string;
}

const jids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

async function putJobs(core: Core, ids: string[]): Promise<void> {
  for (const jid of ids) await core(['put', NOW, 'w', 'q', jid, 'K', '{}', 0]);
}

async function runningJobs(core: Core, ids: string[]): Promise<void> {
  await putJobs(core, ids);
  for (let i = 0; i < ids.length; i += 10) await core(['pop', NOW, 'q', 'w', 10]);
}

const cases: Case[] = [
  { name: 'return 1 (trivial script)', jobs: 0, prepare: async () => Array.from({ length: CALLS }, () => ['noop']) },
  {
    name: 'config.get heartbeat',
    jobs: 0,
    prepare: async () => Array.from({ length: CALLS }, () => ['config.get', NOW, 'heartbeat']),
  },
  {
    name: 'put (new job)',
    jobs: 1,
    prepare: async () => jids('p', CALLS).map((jid) => ['put', NOW, 'w', 'q', jid, 'K', '{"n":1}', 0]),
  },
  {
    name: 'pop 1',
    jobs: 1,
    prepare: async (core) => {
      await putJobs(core, jids('j', CALLS));
      return Array.from({ length: CALLS }, () => ['pop', NOW, 'q', 'w', 1]);
    },
  },
  {
    name: 'pop 8',
    jobs: 8,
    prepare: async (core) => {
      await putJobs(core, jids('j', CALLS * 8));
      return Array.from({ length: CALLS }, () => ['pop', NOW, 'q', 'w', 8]);
    },
  },
  {
    name: 'pop 10',
    jobs: 10,
    prepare: async (core) => {
      await putJobs(core, jids('j', CALLS * 10));
      return Array.from({ length: CALLS }, () => ['pop', NOW, 'q', 'w', 10]);
    },
  },
  {
    name: 'heartbeat',
    jobs: 1,
    prepare: async (core) => {
      const ids = jids('h', CALLS);
      await runningJobs(core, ids);
      return ids.map((jid) => ['heartbeat', NOW + 1, jid, 'w']);
    },
  },
  {
    name: 'complete',
    jobs: 1,
    prepare: async (core) => {
      const ids = jids('c', CALLS);
      await runningJobs(core, ids);
      return ids.map((jid) => ['complete', NOW + 1, jid, 'w', 'q', '{}']);
    },
  },
  {
    // What a worker at concurrency 1 sends per job: complete the one it ran, pop the next.
    name: 'complete.pop 1',
    jobs: 1,
    needs: 'complete.pop',
    prepare: async (core) => {
      const ids = jids('c', CALLS);
      await runningJobs(core, ids);
      await putJobs(core, jids('n', CALLS));
      return ids.map((jid) => ['complete.pop', NOW + 1, 'q', 1, jid, 'w', 'q', '{}']);
    },
  },
];

/** Commands the bench itself sends around the measured calls: not the script's. */
const NOT_FROM_SCRIPT = new Set(['evalsha', 'fcall', 'info', 'config', 'function']);

interface RoundStats {
  usecPerCall: number;
  cpuUsecPerCall: number;
  /** Redis commands run inside the script calls, per call. */
  redisCallsPerCall: number;
}

/** CPU seconds (user + system) Redis's main thread has used so far. */
async function mainThreadCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => {
    const match = new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info);
    if (!match) throw new Error(`no ${name} in INFO cpu`);
    return Number(match[1]);
  };
  return field('used_cpu_user_main_thread') + field('used_cpu_sys_main_thread');
}

async function roundStats(redis: Redis, command: Mode, cpuSeconds: number): Promise<RoundStats> {
  const info = await redis.info('commandstats');
  let scriptCalls = 0;
  let usecPerCall = Number.NaN;
  let inner = 0;
  for (const match of info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/g)) {
    const [, name, calls, perCall] = match;
    if (name === command) {
      scriptCalls = Number(calls);
      usecPerCall = Number(perCall);
    } else if (!NOT_FROM_SCRIPT.has(name)) {
      inner += Number(calls);
    }
  }
  if (scriptCalls === 0) throw new Error(`no ${command} in INFO commandstats`);
  return { usecPerCall, cpuUsecPerCall: (cpuSeconds * 1e6) / scriptCalls, redisCallsPerCall: inner / scriptCalls };
}

interface CountedRedis {
  url: string;
  /** Instructions redis-server executed since the previous call (or since it started). */
  instructions(): number;
  stop(): Promise<void>;
}

/** A private redis-server (free loopback port, no persistence) under callgrind. */
async function startCountedRedis(): Promise<CountedRedis> {
  if (spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('--instructions needs valgrind (callgrind) on PATH, e.g. `sudo apt-get install valgrind`');
  }
  const dir = mkdtempSync(join(tmpdir(), 'qless-callgrind-'));
  const port = await freePort();
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${dir}/cg`, 'redis-server', ...dataNodeArgs(port, dir)],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const url = `redis://127.0.0.1:${port}`;
  // Under valgrind the server takes a few seconds to listen.
  const probe = new Redis(url, { retryStrategy: () => 200, maxRetriesPerRequest: null });
  probe.on('error', () => undefined);
  await probe.ping();
  probe.disconnect();
  const dumpNumber = (name: string) => Number(name.slice(name.lastIndexOf('.') + 1));
  return {
    url,
    instructions() {
      // Each dump holds the counts since the previous one.
      execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
      const dumps = readdirSync(dir).filter((name) => /^cg\.\d+$/.test(name));
      const newest = dumps.sort((a, b) => dumpNumber(a) - dumpNumber(b)).at(-1);
      const summary = newest && /^summary: (\d+)/m.exec(readFileSync(join(dir, newest), 'utf8'));
      if (!summary) throw new Error(`no callgrind dump in ${dir}`);
      return Number(summary[1]);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

interface Row {
  benchCase: Case;
  variant: Variant;
  usec: Record<Mode, number[]>;
  cpu: Record<Mode, number[]>;
  /** Instructions per call (--instructions). */
  instructions: Record<Mode, number[]>;
  /** The same in every round and mode (the script is deterministic); the last is kept. */
  redisCalls: number;
}

async function main(): Promise<void> {
  const counted = INSTRUCTIONS ? await startCountedRedis() : undefined;
  const server = counted ?? (await startRedis());
  const redis = new Redis(server.url);
  try {
    const variants: Variant[] = [];
    const sources: [string, string][] = [['work tree', scriptSource()]];
    if (baselinePath) sources.push(['baseline', readFileSync(baselinePath, 'utf8')]);
    for (const [label, source] of sources) {
      const sha = (await redis.script('LOAD', source)) as string;
      variants.push({ label, source, sha, library: functionLibraryFrom(source, label) });
    }
    const noopSha = (await redis.script('LOAD', 'return 1')) as string;
    await redis.function(
      'LOAD',
      'REPLACE',
      "#!lua name=bench\nredis.register_function('noop', function() return 1 end)",
    );

    const send = async (mode: Mode, sha: string, calls: Args[]): Promise<void> => {
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

    const rows: Row[] = [];
    for (const benchCase of cases.filter((each) => !only || only.some((name) => each.name.startsWith(name)))) {
      const caseRows = variants
        .filter((variant) => !benchCase.needs || variant.source.includes(`'${benchCase.needs}'`))
        .map(
          (variant): Row => ({
            benchCase,
            variant,
            usec: { evalsha: [], fcall: [] },
            cpu: { evalsha: [], fcall: [] },
            instructions: { evalsha: [], fcall: [] },
            redisCalls: 0,
          }),
        );
      // Rounds interleave the variants and modes, so a burst of load hits them alike.
      for (let round = 0; round < ROUNDS; round++) {
        for (const row of caseRows) {
          for (const mode of ['evalsha', 'fcall'] as const) {
            await redis.flushdb();
            if (mode === 'fcall') await redis.function('LOAD', 'REPLACE', row.variant.library);
            // Set-up always goes through EVALSHA of the same variant; only the measured calls differ by mode.
            const calls = await benchCase.prepare((args) => redis.evalsha(row.variant.sha, 0, ...args.map(String)));
            await redis.config('RESETSTAT');
            if (counted) {
              counted.instructions();
              await send(mode, row.variant.sha, calls);
              row.instructions[mode].push(counted.instructions() / calls.length);
              row.redisCalls = (await roundStats(redis, mode, 0)).redisCallsPerCall;
              continue;
            }
            const cpuBefore = await mainThreadCpu(redis);
            await send(mode, row.variant.sha, calls);
            const cpuAfter = await mainThreadCpu(redis);
            const stats = await roundStats(redis, mode, cpuAfter - cpuBefore);
            row.usec[mode].push(stats.usecPerCall);
            row.cpu[mode].push(stats.cpuUsecPerCall);
            row.redisCalls = stats.redisCallsPerCall;
          }
        }
      }
      rows.push(...caseRows);
    }

    const cell = (values: number[]) => `${Math.min(...values).toFixed(1)} / ${median(values).toFixed(1)}`.padStart(15);
    const perJob = (value: number, jobs: number, digits: number) => (jobs > 0 ? (value / jobs).toFixed(digits) : '-');
    const showScript = variants.length > 1;
    const label = (benchCase: Case, variant: Variant) => {
      const first =
        variant === variants[0] || !rows.some((row) => row.benchCase === benchCase && row.variant === variants[0]);
      return `${(first ? benchCase.name : '').padEnd(27)}${showScript ? variant.label.padEnd(10) : ''}`;
    };
    if (counted) {
      const thousands = (value: number) => `${(value / 1000).toFixed(1)}k`;
      console.log(
        `Instructions redis-server executed per call (callgrind, minimum of ${ROUNDS} round(s) × ${CALLS} calls):`,
      );
      console.log('  instr/job = EVALSHA per job; redis.calls = Redis commands the script ran, per call and per job');
      if (baselinePath) console.log(`  baseline: ${baselinePath}`);
      console.log(
        `${'command'.padEnd(27)}${showScript ? 'script'.padEnd(10) : ''}` +
          `${'EVALSHA'.padStart(12)}${'FCALL'.padStart(12)}` +
          `${'instr/job'.padStart(11)}${'redis.calls'.padStart(12)}${'/job'.padStart(7)}`,
      );
      for (const { benchCase, variant, instructions, redisCalls } of rows) {
        const evalsha = Math.min(...instructions.evalsha);
        console.log(
          `${label(benchCase, variant)}${thousands(evalsha).padStart(12)}` +
            `${thousands(Math.min(...instructions.fcall)).padStart(12)}` +
            `${(benchCase.jobs > 0 ? thousands(evalsha / benchCase.jobs) : '-').padStart(11)}` +
            `${redisCalls.toFixed(1).padStart(12)}${perJob(redisCalls, benchCase.jobs, 1).padStart(7)}`,
        );
      }
      return;
    }
    console.log(`Redis-side µs per call, min / median of ${ROUNDS} rounds × ${CALLS} calls:`);
    console.log('  in-cmd = usec_per_call of INFO commandstats; cpu = Redis main-thread CPU per call (INFO cpu)');
    console.log(
      '  cpu/job = EVALSHA cpu minimum per job; redis.calls = Redis commands the script ran, per call and per job',
    );
    if (baselinePath) console.log(`  baseline: ${baselinePath}`);
    console.log(
      `${'command'.padEnd(27)}${showScript ? 'script'.padEnd(10) : ''}` +
        `${'EVALSHA in-cmd'.padStart(15)}${'EVALSHA cpu'.padStart(15)}` +
        `${'FCALL in-cmd'.padStart(15)}${'FCALL cpu'.padStart(15)}` +
        `${'cpu/job'.padStart(9)}${'redis.calls'.padStart(12)}${'/job'.padStart(7)}`,
    );
    for (const { benchCase, variant, usec, cpu, redisCalls } of rows) {
      console.log(
        `${label(benchCase, variant)}` +
          `${cell(usec.evalsha)}${cell(cpu.evalsha)}${cell(usec.fcall)}${cell(cpu.fcall)}` +
          `${perJob(Math.min(...cpu.evalsha), benchCase.jobs, 1).padStart(9)}` +
          `${redisCalls.toFixed(1).padStart(12)}${perJob(redisCalls, benchCase.jobs, 1).padStart(7)}`,
      );
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

await main();
