// What the supervisor and its metrics agree on, without loading prom-client: the supervisor
// imports this file always, and the metrics themselves (./start.ts) only when --metrics-port is set.
import type { WorkerMetricsReport } from '../../protocol/ipc.ts';
import type { HandBackReason, RestartReason } from '../departure.ts';
import type { SlotView } from '../pool-view.ts';

/** --metrics-host and --metrics-port. */
export interface MetricsAddress {
  host: string;
  port: number;
}

/** What the metrics read from the supervisor when scraped or probed. */
export interface PoolReadings {
  /** The pool's queues (each gets an in-flight gauge, 0 when idle). */
  readonly queues: readonly string[];
  slots(): SlotView[];
  /** When the reconcile loop last turned (ms since the epoch). */
  lastTurnAt(): number;
  /** The pool is shutting down. */
  stopping(): boolean;
}

/** A job handed back by the supervisor, or failed because that cost its last retry. */
export interface JobLabels {
  queue: string;
  klass: string;
}

/** What the supervisor tells the metrics as it happens. */
export interface PoolMetricsSink {
  /** A worker's report; `reason`: why that worker hands jobs back, if it does. */
  workerReport(report: WorkerMetricsReport, reason: Exclude<HandBackReason, 'worker-died'>): void;
  /** A slot's worker ended and the slot is refilled. */
  workerRestarted(reason: RestartReason): void;
  /** The supervisor handed back the jobs of a worker that died. */
  handedBack(jobs: readonly JobLabels[]): void;
  /** Jobs of a worker that died whose hand-back cost their last retry: failed-retries-<queue>. */
  outOfRetries(jobs: readonly JobLabels[]): void;
}

/** The metrics, served: what the supervisor tells them, and how to stop serving. */
export interface MetricsEndpoint extends PoolMetricsSink {
  close(): Promise<void>;
}

/** The port could not be listened on: a usage error (one line, exit code 2), before any worker starts. */
export class MetricsPortError extends Error {
  override name = 'MetricsPortError';
}
