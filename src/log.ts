// pino set-up shared by the supervisor, the worker processes and the CLIs.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };
export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  level?: LevelWithSilent;
  /** pretty on a TTY, JSON otherwise, unless chosen. */
  format?: LogFormat;
  /** Fields on every line (e.g. worker name). */
  base?: Record<string, unknown>;
  /** File descriptor to write to; 1 (stdout) by default. */
  fd?: number;
}

export function defaultLogFormat(fd = 1): LogFormat {
  return process.stdout.isTTY && fd === 1 ? 'pretty' : 'json';
}

export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? 'info';
  const fd = options.fd ?? 1;
  const format = options.format ?? defaultLogFormat(fd);
  const base = { pid: process.pid, ...options.base };
  if (format === 'pretty') {
    return pino(
      { level, base },
      pino.transport({
        target: 'pino-pretty',
        options: { destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname' },
      }),
    );
  }
  return pino({ level, base }, pino.destination({ fd, sync: false }));
}
