// Reads the handler run records (bench/chaos/handlers/run-record.ts) as they grow: how many
// times each jid's handler started, and which jids a live process is inside right now.
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './processes.ts';

interface FileCursor {
  pid: number;
  offset: number;
  /** An incomplete last line, kept until the rest arrives. */
  partial: string;
}

export class RunLog {
  private readonly cursors = new Map<string, FileCursor>();
  /** jid → how many times its handler started. */
  private readonly starts = new Map<string, number>();
  /** jid → pids that started it and have not recorded its end. */
  private readonly open = new Map<string, Set<number>>();

  constructor(readonly dir: string) {}

  /** Reads what the handlers appended since the last call. */
  refresh(): void {
    for (const name of readdirSync(this.dir)) {
      const match = /^runs-(\d+)\.log$/.exec(name);
      if (!match) continue;
      let cursor = this.cursors.get(name);
      if (!cursor) {
        cursor = { pid: Number(match[1]), offset: 0, partial: '' };
        this.cursors.set(name, cursor);
      }
      this.readNew(join(this.dir, name), cursor);
    }
  }

  private readNew(file: string, cursor: FileCursor): void {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= cursor.offset) return;
      const buffer = Buffer.alloc(size - cursor.offset);
      const read = readSync(fd, buffer, 0, buffer.length, cursor.offset);
      cursor.offset += read;
      const lines = (cursor.partial + buffer.toString('utf8', 0, read)).split('\n');
      cursor.partial = lines.pop() ?? '';
      for (const line of lines) this.apply(line, cursor.pid);
    } finally {
      closeSync(fd);
    }
  }

  private apply(line: string, pid: number): void {
    const [kind, jid] = line.split(' ');
    if (!jid) return;
    if (kind === 'S') {
      this.starts.set(jid, (this.starts.get(jid) ?? 0) + 1);
      let pids = this.open.get(jid);
      if (!pids) {
        pids = new Set();
        this.open.set(jid, pids);
      }
      pids.add(pid);
    } else if (kind === 'E') {
      const pids = this.open.get(jid);
      pids?.delete(pid);
      if (pids?.size === 0) this.open.delete(jid);
    }
  }

  /** How many times the jid's handler started (0: never). */
  runs(jid: string): number {
    return this.starts.get(jid) ?? 0;
  }

  /** Whether a live process is inside the jid's handler (started it, has not returned, not dead). */
  isRunning(jid: string): boolean {
    for (const pid of this.open.get(jid) ?? []) if (isAlive(pid)) return true;
    return false;
  }
}
