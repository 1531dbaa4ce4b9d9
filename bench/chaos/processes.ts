// What Linux's /proc says about the pool's processes: whether a pid is alive, and which processes
// are left in a pool's process group (the supervisor leads its own group; its workers are in it,
// and stay in it when the supervisor dies and they are re-parented).
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat after "(comm)": [0] state, [1] ppid, [2] pgrp, … */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Whether the process exists and is not a zombie (a dead child its parent has not reaped yet). */
export function isAlive(pid: number): boolean {
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== 'Z';
}

/** The live processes (zombies left out) whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}
