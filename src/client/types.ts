// The shapes the script returns, as the client hands them out (empty lists already as []).
import type { JsonValue } from './input.ts';

export type { JsonValue };

/** One reply of the script, as Redis delivers it. */
export type ScriptReply = string | number | null | ScriptReply[];

/** An argument of a script call; numbers are sent in their JavaScript text form. */
export type ScriptArg = string | number;

export type JobState = 'waiting' | 'scheduled' | 'depends' | 'running' | 'stalled' | 'failed' | 'complete';

/** One entry of a job's history; `q`, `worker`, `group` depend on `what`, `log` entries carry their own keys. */
export interface HistoryEntry {
  /** Seconds since the epoch (whole seconds). */
  when: number;
  /** `put`, `popped`, `done`, `failed`, `timed-out`, or a `log` message. */
  what: string;
  q?: string;
  worker?: string;
  group?: string;
  [key: string]: JsonValue | undefined;
}

export interface Failure {
  group: string;
  message: string;
  /** Seconds since the epoch. */
  when: number;
  /** The worker that failed it; `''` when retries ran out. */
  worker: string;
}

/** A job object exactly as `get`/`pop`/`peek`/`multiget` encode it. */
export interface JobJson {
  jid: string;
  klass: string;
  state: JobState;
  queue: string;
  worker: string;
  tracked: boolean;
  priority: number;
  expires: number;
  retries: number;
  remaining: number;
  data: string;
  tags: string[] | Record<string, never>;
  history: HistoryEntry[] | Record<string, never>;
  failure: Failure | Record<string, never>;
  spawned_from_jid: string | false;
  dependents: string[] | Record<string, never>;
  dependencies: string[] | Record<string, never>;
}

/** A recurring job template exactly as `recur.get` encodes it. */
export interface RecurringJobJson {
  jid: string;
  klass: string;
  state: 'recur';
  queue: string;
  priority: number;
  interval: number;
  retries: number;
  count: number;
  data: string;
  tags: string[] | Record<string, never>;
  backlog: number;
}

export interface QueueCounts {
  name: string;
  paused: boolean;
  waiting: number;
  running: number;
  stalled: number;
  scheduled: number;
  depends: number;
  recurring: number;
}

export interface TimeStats {
  count: number;
  mean: number;
  std: number;
  /** 148 buckets: seconds 0–59, minutes 1–59, hours 1–23, days 1–6. */
  histogram: number[];
}

export interface QueueStats {
  wait: TimeStats;
  run: TimeStats;
  /** Lock-expiry courtesies given that day. */
  retries: number;
  /** Failures that day. */
  failures: number;
  /** Failures that day still failed (put/cancel of a failed job decrements it). */
  failed: number;
}

export interface WorkerSummary {
  name: string;
  /** Number of jobs it holds with a live lock. */
  jobs: number;
  /** Number of its jobs whose lock expired. */
  stalled: number;
}

export interface WorkerJobs {
  jobs: string[];
  stalled: string[];
}

export interface Page<T> {
  total: number;
  jobs: T[];
}

export type JobListState = 'running' | 'stalled' | 'scheduled' | 'depends' | 'recurring';
