// Per-process figures from Linux's /proc: resident memory (VmRSS) and CPU time used so far.
import { readFileSync } from 'node:fs';

/** /proc/<pid>/stat counts CPU time in clock ticks; 100 per second on Linux (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** The RSS in MB (2^20 bytes), or undefined when the process is gone (or this is not Linux). */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds the process has used, or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14 and stime 15 (1-based).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export interface PoolRss {
  supervisorMb: number | undefined;
  /** One entry per slot, in slot order. */
  workersMb: (number | undefined)[];
}

export interface PoolCpu {
  supervisorSeconds: number | undefined;
  /** One entry per slot, in slot order. */
  workersSeconds: (number | undefined)[];
}
