// What the figures were measured on: CPU, cores, versions, and how busy the machine already was
// (the machine may be shared, so the load average is printed beside the figures).
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { Redis } from 'ioredis';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  redis: string;
  /** 1-minute load average when the bench started. */
  loadAverage: number;
}

/** The 1-minute load average now (other work on a shared machine skews every figure). */
export const currentLoad = (): number => loadavg()[0];

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: the model stays unknown.
  }
  return 'unknown';
}

export async function describeMachine(redis: Redis): Promise<Machine> {
  const server = await redis.info('server');
  const version = /redis_version:([^\r\n]+)/.exec(server)?.[1] ?? 'unknown';
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    node: process.version,
    redis: version,
    loadAverage: loadavg()[0],
  };
}
