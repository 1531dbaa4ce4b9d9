// Messages between the supervisor and its worker processes (Node's fork IPC channel).
// The supervisor is the only parent; a worker exits by itself when the channel closes.
import { type BucketCounts, DURATION_BUCKETS, emptyCounts, SCRIPT_CALL_BUCKETS, WAIT_BUCKETS } from './histogram.ts';
import type { WorkerOptions } from './options.ts';

/** The pool options a worker process runs with (the rest of WorkerOptions is the supervisor's). */
export type WorkerPoolOptions = Pick<
  WorkerOptions,
  | 'queues'
  | 'interval'
  | 'path'
  | 'redis'
  | 'concurrency'
  | 'reserver'
  | 'resume'
  | 'imports'
  | 'maxJobs'
  | 'maxMemory'
  | 'logLevel'
  | 'shutdownTimeout'
>;

/** What a worker process is told at start-up (sent as the first message after fork). */
export interface WorkerConfig extends WorkerPoolOptions {
  /** 0-based slot; the sandbox and the worker name derive from it. */
  slot: number;
  /** `<prefix>-<slot>`, stable across restarts of the slot. */
  name: string;
  /** Absolute sandbox directory of this slot. */
  sandbox: string;
  /** Start paused (the pool was paused with USR2 when this worker was forked). */
  paused: boolean;
  /** Record what happens to jobs and send it as `metrics` reports (the pool serves --metrics-port). */
  metrics?: boolean;
}

/** A job a worker holds, as the watchdog needs to know it. */
export interface HeldJob {
  jid: string;
  queue: string;
  klass: string;
  /** Lock expiry, seconds since the epoch (as returned by pop/heartbeat). */
  expires: number;
  /** When the worker started running it, ms since the epoch (absent when only Redis told of the job). */
  startedAt?: number;
}

/** What happened to the jobs of one queue and klass since a worker's last `metrics` report. */
export interface JobTally {
  queue: string;
  klass: string;
  started: number;
  completed: number;
  /** The handler called job.retry(). */
  retried: number;
  /** Given back to the queue because the worker was stopping (the supervisor knows why). */
  handedBack: number;
  /** The job stopped being this worker's while it ran: lock lost (or heartbeat refused), or cancelled. */
  lockLost: number;
  canceled: number;
  /** Failures by group. */
  failed: Record<string, number>;
  /** Handler run times of the jobs that ended here (completed, failed or settled by their handler). */
  durationSeconds: BucketCounts;
  /** Put → pop of the jobs started here on their first pop since their put (from the job's history). */
  waitSeconds: BucketCounts;
}

/** A tally with nothing counted yet. */
export function emptyTally(queue: string, klass: string): JobTally {
  return {
    queue,
    klass,
    started: 0,
    completed: 0,
    retried: 0,
    handedBack: 0,
    lockLost: 0,
    canceled: 0,
    failed: {},
    durationSeconds: emptyCounts(DURATION_BUCKETS),
    waitSeconds: emptyCounts(WAIT_BUCKETS),
  };
}

/** Durations of the script calls a worker made since its last report, of one script command. */
export interface ScriptCallTimes {
  command: string;
  /** SCRIPT_CALL_BUCKETS. */
  seconds: BucketCounts;
}

/** A command's script calls with nothing counted yet. */
export function emptyCallTimes(command: string): ScriptCallTimes {
  return { command, seconds: emptyCounts(SCRIPT_CALL_BUCKETS) };
}

/** A worker's `metrics` report: what happened since the previous one (the supervisor adds it up). */
export interface WorkerMetricsReport {
  jobs: JobTally[];
  calls: ScriptCallTimes[];
}

export type SupervisorMessage =
  | { type: 'config'; config: WorkerConfig }
  /**
   * Take no new job, finish the jobs in flight, deregister, exit 0. Jobs still running at
   * `handBackAt` (ms since the epoch, set by the supervisor a little before it would kill the
   * process) are handed back to their queues.
   */
  | { type: 'stop'; handBackAt: number }
  /** Stop polling (USR2) / poll again (CONT). */
  | { type: 'pause' }
  | { type: 'resume' }
  /** Liveness probe; the worker answers with `pong` carrying the same id. */
  | { type: 'ping'; id: number };

export type WorkerMessage =
  /** Connected, imports loaded, about to poll. */
  | { type: 'ready' }
  /**
   * The full set of jobs held right now, sent when it or a lock expiry changes: at once after a
   * quiet spell, else at most once a second (held-jobs.ts); the watchdog asks Redis about a
   * silent worker's jobs, so a report may lag.
   */
  | { type: 'jobs'; jobs: HeldJob[] }
  /** `rss`: the process's resident memory in bytes when it answered. */
  | { type: 'pong'; id: number; rss?: number }
  /** Sent only when the config asked for metrics, on the same schedule as `jobs` (held-jobs.ts). */
  | { type: 'metrics'; report: WorkerMetricsReport }
  /** The worker is leaving by itself (max-jobs, max-memory) after draining; restart the slot at once. */
  | { type: 'recycle'; reason: string };

export function isSupervisorMessage(value: unknown): value is SupervisorMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
