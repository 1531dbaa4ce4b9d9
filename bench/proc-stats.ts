// Per-process figures from Linux's /proc: resident memory (VmRSS), proportional set size (Pss:
// shared pages counted in part, so the processes of a pool add up to what they really hold) and
// CPU time used so far.
import { readFileSync } from 'node:fs';

/** /proc/<pid>/stat counts CPU time in clock ticks; 100 per second on Linux (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** A `Name:   N kB` line of a /proc file, in MB (2^20 bytes); undefined when the process is gone. */
function kbField(file: string, name: string): number | undefined {
  try {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(file, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The RSS in MB (2^20 bytes), or undefined when the process is gone (or this is not Linux). */
export const rssMb = (pid: number): number | undefined => kbField(`/proc/${pid}/status`, 'VmRSS');

/** The PSS in MB (2^20 bytes), from smaps_rollup (Linux 4.14+), or undefined when gone or unknown. */
export const pssMb = (pid: number): number | undefined => kbField(`/proc/${pid}/smaps_rollup`, 'Pss');

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

/** One memory figure (MB) of each process of a pool. */
export interface PoolMemory {
  supervisorMb: number | undefined;
  /** One entry per slot, in slot order. */
  workersMb: (number | undefined)[];
}

export type PoolRss = PoolMemory;
export type PoolPss = PoolMemory;

/** The supervisor's and every worker's figure together (NaN if one process is unknown). */
export function poolTotalMb(memory: PoolMemory): number {
  return [memory.supervisorMb, ...memory.workersMb].reduce<number>((sum, mb) => sum + (mb ?? Number.NaN), 0);
}

export interface PoolCpu {
  supervisorSeconds: number | undefined;
  /** One entry per slot, in slot order. */
  workersSeconds: (number | undefined)[];
}
