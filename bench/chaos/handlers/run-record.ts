// What lets the suite see handler runs from outside: each run appends `S <jid> <epoch ms>` when
// the handler starts and `E <jid> <epoch ms>` when it returns to a file of its own process,
// `$CHAOS_RUNS_DIR/runs-<pid>.log`. The suite counts the S lines per jid (a job run twice) and
// treats a jid with an S but no E in a live process as being run right now (not stranded).
// A file, not Redis: the records must survive a Redis restart or freeze and a kill -9 (one
// write() of a short line to an O_APPEND file is whole and stays after the process dies).
import { openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

let fd: number | undefined;

function runFile(): number {
  if (fd === undefined) {
    const dir = process.env.CHAOS_RUNS_DIR;
    if (!dir) throw new Error('CHAOS_RUNS_DIR is not set: the chaos handlers are meant for `npm run chaos`');
    fd = openSync(join(dir, `runs-${process.pid}.log`), 'a');
  }
  return fd;
}

export function recordStart(jid: string): void {
  writeSync(runFile(), `S ${jid} ${Date.now()}\n`);
}

export function recordEnd(jid: string): void {
  writeSync(runFile(), `E ${jid} ${Date.now()}\n`);
}
