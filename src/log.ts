// Logging types shared by the supervisor, the worker processes and the CLI, and the default log
// format. Each process builds its own pino logger (src/supervisor/log-display.ts,
// src/worker/log-output.ts).
import type { Logger } from 'pino';

export type { Logger };
export type LogFormat = 'json' | 'pretty';

/** pretty when stdout is a terminal, JSON otherwise. */
export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? 'pretty' : 'json';
}
