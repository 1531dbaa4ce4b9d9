// The pino logger of `qless web`: one JSON line per write action (who, what, which jids) on
// stderr, so stdout carries only what the command says to its user.
import { type Logger, pino } from 'pino';

export function createAuditLogger(): Logger {
  return pino({ base: { pid: process.pid, name: 'qless-web' } }, pino.destination({ fd: 2, sync: false }));
}
