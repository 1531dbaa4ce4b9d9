// Resident memory of a process, from /proc/<pid>/status (VmRSS), in MB (2^20 bytes).
import { readFileSync } from 'node:fs';

/** The RSS in MB, or undefined when the process is gone (or this is not Linux). */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface PoolRss {
  supervisorMb: number | undefined;
  /** One entry per slot, in slot order. */
  workersMb: (number | undefined)[];
}
