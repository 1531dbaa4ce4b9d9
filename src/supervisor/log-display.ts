// What the supervisor prints. Worker processes always log JSON to their stdout; the supervisor
// owns the display: with json the workers share its stdout, with pretty it reads their lines and
// prettifies them in-process together with its own (no transport thread anywhere). pino-pretty
// is loaded only for pretty output.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type { LogFormat } from '../log.ts';

type PinoPretty = typeof import('pino-pretty');

export interface LogDisplay {
  logger: Logger;
  /** How a forked worker's stdout is set up: shared with the supervisor, or piped to it. */
  workerStdout: 'inherit' | 'pipe';
  /** Shows a worker's output (only needed when workerStdout is 'pipe'). */
  attach(child: ChildProcess): void;
}

export function createLogDisplay(format: LogFormat, level: LevelWithSilent): LogDisplay {
  const base = { pid: process.pid, role: 'supervisor' };
  if (format === 'json') {
    // Synchronous: the supervisor logs little, and its last lines must be out before it exits.
    return {
      logger: pino({ level, base }, pino.destination({ fd: 1, sync: true })),
      workerStdout: 'inherit',
      attach: () => undefined,
    };
  }
  // require() works both under tsx's CommonJS hooks (bin/qless-worker) and under its ESM loader.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as PinoPretty;
  const prettify = prettyFactory({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'hostname,role',
    // One line per entry: a pool's logs stay readable as they scroll.
    singleLine: true,
  });
  const show = (line: string): void => {
    process.stdout.write(prettify(line));
  };
  return {
    logger: pino({ level, base }, { write: show }),
    workerStdout: 'pipe',
    attach: (child) => {
      if (!child.stdout) return;
      const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
      lines.on('line', (line) => {
        if (line !== '') show(line);
      });
    },
  };
}
