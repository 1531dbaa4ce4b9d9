// The resolved options of a qless-worker run, as the CLI hands them over.
import type { LevelWithSilent } from 'pino';
import type { LogFormat } from '../log.ts';

export type ReserverName = 'ordered' | 'round-robin' | 'shuffled';

export interface WorkerOptions {
  /** Queue names in the order given (comma lists already split). At least one. */
  queues: string[];
  /** Number of worker processes (already resolved: never 0). */
  workers: number;
  /** Seconds an idle worker waits between polls when every queue was empty. */
  interval: number;
  /** Absolute path of the handler project. */
  path: string;
  /** Absolute path; worker k's sandbox is <workdir>/sandbox/worker-<k>. */
  workdir: string;
  /** Redis URL. */
  redis: string;
  /** Worker names are `<name>-<slot>`. */
  name: string;
  /** Jobs in flight per worker process. */
  concurrency: number;
  reserver: ReserverName;
  resume: boolean;
  /** Modules (paths resolved against the cwd, or package names) loaded in every worker before it polls. */
  imports: string[];
  /** Recycle a worker after this many jobs (0 = never). */
  maxJobs: number;
  /** Recycle a worker after the job during which its RSS passed this many MB (0 = never). */
  maxMemory: number;
  /** Seconds to wait for in-flight jobs on shutdown before killing. */
  shutdownTimeout: number;
  watch: boolean;
  /** --metrics-host / --metrics-port: where the supervisor serves /metrics, /healthz, /readyz; off when absent. */
  metrics?: { host: string; port: number };
  logLevel: LevelWithSilent;
  logFormat: LogFormat;
}
