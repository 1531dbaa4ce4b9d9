// Workers: `workers` (all known) and `worker <name>` (the jobs one holds). A worker that belongs to
// a live qless-worker pool (its published status, client.pools) also shows its host, pid, RSS and
// uptime.
import type { PoolSlot, PoolStatus } from '../../client/index.ts';
import { renderJobTable } from '../format/job.ts';
import { type Column, renderPage, renderTable } from '../format/table.ts';
import { formatDuration } from '../format/time.ts';
import { type CommandSpec, pageOf, pagingOptions } from './command.ts';
import { loadJobs } from './lookup.ts';

/** What a live pool says of one of its workers (`process` in --json). */
interface WorkerProcess {
  /** The pool's name prefix. */
  pool: string;
  host: string;
  slot: number;
  state: PoolSlot['state'];
  /** null while the slot has no process (between two). */
  pid: number | null;
  rssBytes: number | null;
  /** ms since the epoch. */
  startedAt: number | null;
  uptimeSeconds: number | null;
}

function processOf(pool: PoolStatus, slot: PoolSlot, nowMs: number): WorkerProcess {
  return {
    pool: pool.prefix,
    host: pool.host,
    slot: slot.slot,
    state: slot.state,
    pid: slot.pid,
    rssBytes: slot.rssBytes,
    startedAt: slot.startedAt,
    uptimeSeconds: slot.startedAt === null ? null : Math.max(0, Math.round((nowMs - slot.startedAt) / 1000)),
  };
}

/** Worker name → its process, for every slot of every live pool. */
function processesByName(pools: readonly PoolStatus[], nowMs: number): Map<string, WorkerProcess> {
  const byName = new Map<string, WorkerProcess>();
  for (const pool of pools) for (const slot of pool.slots) byName.set(slot.worker, processOf(pool, slot, nowMs));
  return byName;
}

function megabytes(bytes: number | null): string {
  return bytes === null ? '' : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function uptime(found: WorkerProcess): string {
  return found.uptimeSeconds === null ? '' : formatDuration(found.uptimeSeconds);
}

const PROCESS_COLUMNS: readonly Column[] = [
  { header: 'HOST' },
  { header: 'PID', align: 'right' },
  { header: 'RSS', align: 'right' },
  { header: 'UPTIME' },
];

export const workers: CommandSpec = {
  command: 'workers',
  describe: 'Workers seen lately (most recently active first) with the jobs they hold',
  build: (yargs) => pagingOptions(yargs, undefined),
  examples: [['$0 workers', 'One row a worker: running and stalled jobs; host, pid, RSS and uptime if in a live pool']],
  async run(args, context) {
    const paging = args.paging(undefined);
    const client = await context.client();
    const { items, ...listed } = pageOf(await client.workers.list(), paging);
    const processes = processesByName(await client.pools.list(), client.now() * 1000);
    const page = items.map((worker) => {
      const found = processes.get(worker.name);
      return found ? { ...worker, process: found } : worker;
    });
    const anyProcess = page.some((worker) => 'process' in worker);
    await context.out.result({ ...listed, workers: page }, () =>
      renderPage('no workers', listed.total, listed.offset, page, () =>
        renderTable(
          [
            { header: 'WORKER' },
            { header: 'JOBS', align: 'right' },
            { header: 'STALLED', align: 'right' },
            ...(anyProcess ? PROCESS_COLUMNS : []),
          ],
          page.map((worker) => {
            const cells = [worker.name, String(worker.jobs), String(worker.stalled)];
            if (!anyProcess) return cells;
            const found = 'process' in worker ? worker.process : undefined;
            return found
              ? [...cells, found.host, String(found.pid ?? ''), megabytes(found.rssBytes), uptime(found)]
              : cells;
          }),
        ),
      ),
    );
  },
};

export const worker: CommandSpec = {
  command: 'worker <name>',
  describe: 'The jobs one worker holds: running (live lock) and stalled (lock expired)',
  build: (yargs) => yargs.positional('name', { type: 'string', describe: 'The worker name' }),
  examples: [['$0 worker host-1234-0', 'What host-1234-0 is working on (and its process, if in a live pool)']],
  async run(args, context) {
    const name = args.text('name');
    const client = await context.client();
    const known = (await client.workers.list()).some((entry) => entry.name === name);
    const held = await client.workers.get(name);
    const running = await loadJobs(client, held.jobs);
    const stalled = await loadJobs(client, held.stalled);
    const inPool = await client.pools.findWorker(name);
    const found = inPool ? processOf(inPool.pool, inPool.slot, client.now() * 1000) : undefined;
    const document = { name, known, ...(found ? { process: found } : {}), jobs: running, stalled };
    await context.out.result(document, () => {
      const now = client.now();
      const parts = [known ? `worker ${name}` : `worker ${name} (not a known worker)`];
      if (found) {
        const pid = found.pid === null ? 'no process now' : `pid ${found.pid}`;
        const rss = found.rssBytes === null ? '' : `, RSS ${megabytes(found.rssBytes)}`;
        const up = found.uptimeSeconds === null ? '' : `, up ${uptime(found)}`;
        parts[0] += `\npool ${found.pool} slot ${found.slot} on ${found.host}: ${pid} (${found.state})${rss}${up}`;
      }
      parts.push(running.length === 0 ? 'running: none' : `running:\n${renderJobTable(running, now)}`);
      parts.push(stalled.length === 0 ? 'stalled: none' : `stalled:\n${renderJobTable(stalled, now)}`);
      return parts.join('\n\n');
    });
  },
};
