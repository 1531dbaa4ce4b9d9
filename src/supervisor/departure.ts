// Why a child leaves, as far as the supervisor knows: one value per child instead of a flag per
// cause. A kill overrides every other cause (it remembers whether the child was also asked to go,
// before or after the kill); a recycle announcement overrides a stop (it was leaving anyway).

/** Why the supervisor asked a child to leave. */
export type StopReason = 'reload' | 'retire' | 'shutdown';

export type Departure =
  /** Nobody asked it to go: if it exits, it died. */
  | { kind: 'unasked' }
  /** Told to stop (take no new job, finish, exit 0). */
  | { kind: 'stopped'; reason: StopReason }
  /** It announced it leaves by itself (max-jobs, max-memory). */
  | { kind: 'recycled'; reason: string }
  /** The supervisor sent SIGKILL; `asked`: it was also told to stop or announced a recycle. */
  | { kind: 'killed'; why: string; asked: boolean };

export const UNASKED: Departure = { kind: 'unasked' };

export function afterStop(departure: Departure, reason: StopReason): Departure {
  if (departure.kind === 'killed') return { ...departure, asked: true };
  return departure.kind === 'unasked' ? { kind: 'stopped', reason } : departure;
}

export function afterRecycle(departure: Departure, reason: string): Departure {
  return departure.kind === 'killed' ? { ...departure, asked: true } : { kind: 'recycled', reason };
}

export function afterKill(departure: Departure, why: string): Departure {
  return departure.kind === 'killed' ? departure : { kind: 'killed', why, asked: departure.kind !== 'unasked' };
}

/** How the exit is told in the log (`reason` field). */
export function departureReason(departure: Departure): string {
  switch (departure.kind) {
    case 'unasked':
      return 'died';
    case 'stopped':
      return `stopped (${departure.reason})`;
    case 'recycled':
      return `recycled: ${departure.reason}`;
    case 'killed':
      return departure.why;
  }
}

/** An exit that was asked for (stop, recycle) and clean (code 0); anything else is a death. */
export function leftCleanly(departure: Departure, exitCode: number | null): boolean {
  return exitCode === 0 && (departure.kind === 'stopped' || departure.kind === 'recycled');
}

/** An exit nobody asked for (a crash, or a watchdog kill): it counts towards the slot's restart backoff. */
export function endedUnasked(departure: Departure): boolean {
  return departure.kind === 'unasked' || (departure.kind === 'killed' && !departure.asked);
}

/** Why a slot's worker was replaced (`qless_worker_restarts_total`'s reason). */
export const RESTART_REASONS = ['exit-code', 'signal', 'watchdog', 'max-jobs', 'max-memory', 'reload'] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

/**
 * Why a worker whose slot is refilled ended; undefined when that was no restart (a stop for
 * shutdown or retire, or a kill the shutdown did).
 */
export function restartReason(departure: Departure, exitSignal: NodeJS.Signals | null): RestartReason | undefined {
  switch (departure.kind) {
    case 'unasked':
      return exitSignal ? 'signal' : 'exit-code';
    case 'stopped':
      return departure.reason === 'reload' ? 'reload' : undefined;
    case 'recycled':
      if (departure.reason.startsWith('max-jobs')) return 'max-jobs';
      if (departure.reason.startsWith('max-memory')) return 'max-memory';
      return exitSignal ? 'signal' : 'exit-code';
    case 'killed':
      return departure.why.startsWith('watchdog') ? 'watchdog' : 'signal';
  }
}

/**
 * Why jobs were handed back (`qless_jobs_handed_back_total`'s reason): the supervisor handed back
 * the jobs of a worker that died, or a leaving worker handed back what it could not finish (told
 * to stop for a shutdown, reload or retire, or recycling itself).
 */
export type HandBackReason = 'worker-died' | StopReason | 'recycle';
