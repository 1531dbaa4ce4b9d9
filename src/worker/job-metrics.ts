// What a worker records for the pool's metrics, only when the pool serves --metrics-port: per
// queue and klass, how its jobs ended, how long they ran and waited; and how long its script calls
// took (the call batcher times its round trips, a handler's own calls go through timedCaller).
// Run, wait and call times are counted into their histogram's buckets as they happen
// (src/protocol/histogram.ts): a job costs a few additions, and a report a fixed number of counts
// per queue and klass, not one value per job. Nothing is sent per job: what was recorded since
// the last report goes to the supervisor on the held-jobs schedule (report-throttle.ts: at once
// after a quiet spell, else at most once a second), and the supervisor adds it to the pool's
// counters and histograms, so a worker that is replaced can neither reset nor double them. A
// worker killed with -9 loses what it recorded since its last report (at most about a second of
// its jobs).
import type { ScriptCall, QlessCaller } from '../client/script-caller.ts';
import type { HistoryEntry, JobJson, ScriptArg, ScriptReply } from '../client/types.ts';
import { countValue, DURATION_BUCKETS, SCRIPT_CALL_BUCKETS, WAIT_BUCKETS } from '../protocol/histogram.ts';
import {
  emptyCallTimes,
  emptyTally,
  type JobTally,
  type ScriptCallTimes,
  type WorkerMetricsReport,
} from '../protocol/ipc.ts';
import type { JobOutcome } from './job/runner.ts';
import type { SettlingCall } from './job/worker-job.ts';
import { ReportThrottle } from './report-throttle.ts';

/** How one job ended, as the runner concluded it. */
export interface JobEnd {
  outcome: JobOutcome;
  /** The handler's own settling call, for outcome 'settled-by-handler'. */
  settledBy: SettlingCall | undefined;
  /** The failure group, for a job failed by the worker or by its handler. */
  group: string | undefined;
  /** Handler start to the job's end. */
  seconds: number;
}

/**
 * Put → pop in seconds, for a job on its first pop since it was put (a retried or handed-back job
 * has no history entry for its return to the queue, so its wait is unknown). History times are
 * whole seconds.
 */
export function firstWaitSeconds(history: HistoryEntry[] | Record<string, never>): number | undefined {
  if (!Array.isArray(history)) return undefined;
  let popped: number | undefined;
  for (let index = history.length - 1; index >= 0; index--) {
    const entry = history[index];
    if (entry.what === 'popped') {
      if (popped !== undefined) return undefined;
      popped = entry.when;
    } else if (entry.what === 'put') {
      return popped === undefined ? undefined : Math.max(0, popped - entry.when);
    }
  }
  return undefined;
}

export class JobMetrics {
  private tallies = new Map<string, JobTally>();
  /** The tally of the last job: the next job is mostly of the same queue and klass (no key to build then). */
  private lastTally: JobTally | undefined;
  private calls = new Map<string, ScriptCallTimes>();
  private readonly throttle: ReportThrottle;

  constructor(
    private readonly report: (report: WorkerMetricsReport) => void,
    clock?: () => number,
  ) {
    this.throttle = new ReportThrottle(() => this.sendNow(), clock);
  }

  started(json: JobJson): void {
    const tally = this.tally(json.queue, json.klass);
    tally.started++;
    const wait = firstWaitSeconds(json.history);
    if (wait !== undefined) countValue(tally.waitSeconds, WAIT_BUCKETS, wait);
    this.throttle.changed();
  }

  ended(json: JobJson, end: JobEnd): void {
    const tally = this.tally(json.queue, json.klass);
    const counted = this.count(tally, end);
    if (counted) countValue(tally.durationSeconds, DURATION_BUCKETS, end.seconds);
    this.throttle.changed();
  }

  /** One round trip of the call batcher (CallBatcher's onRoundTrip): each call of it is counted at its duration. */
  roundTrip(calls: readonly ScriptCall[], seconds: number): void {
    for (let index = 0; index < calls.length; index++) this.scriptCall(calls[index].command, seconds);
  }

  scriptCall(command: string, seconds: number): void {
    let times = this.calls.get(command);
    if (!times) {
      times = emptyCallTimes(command);
      this.calls.set(command, times);
    }
    countValue(times.seconds, SCRIPT_CALL_BUCKETS, seconds);
    this.throttle.changed();
  }

  /** Sends what was recorded and not yet sent (before the process exits). */
  flush(): void {
    this.throttle.flush();
  }

  /** Counts the end; true when the handler ran to an end of its own (its run time is observed). */
  private count(tally: JobTally, end: JobEnd): boolean {
    switch (end.outcome) {
      case 'completed':
        tally.completed++;
        return true;
      case 'failed':
        this.countFailure(tally, end.group);
        return true;
      case 'settled-by-handler':
        if (end.settledBy === 'complete') tally.completed++;
        else if (end.settledBy === 'fail') this.countFailure(tally, end.group);
        else if (end.settledBy === 'retry') tally.retried++;
        return true;
      case 'handed-back':
        tally.handedBack++;
        return false;
      case 'lock-lost':
        tally.lockLost++;
        return false;
      case 'canceled':
        tally.canceled++;
        return false;
    }
  }

  private countFailure(tally: JobTally, group: string | undefined): void {
    const name = group ?? `${tally.queue}-unknown`;
    tally.failed[name] = (tally.failed[name] ?? 0) + 1;
  }

  private tally(queue: string, klass: string): JobTally {
    const last = this.lastTally;
    if (last !== undefined && last.queue === queue && last.klass === klass) return last;
    const key = `${queue}\0${klass}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = emptyTally(queue, klass);
      this.tallies.set(key, tally);
    }
    this.lastTally = tally;
    return tally;
  }

  private sendNow(): void {
    const report: WorkerMetricsReport = { jobs: [...this.tallies.values()], calls: [...this.calls.values()] };
    this.tallies = new Map();
    this.lastTally = undefined;
    this.calls = new Map();
    this.report(report);
  }
}

/** The caller with each script call timed (heartbeats, and the calls a handler makes itself). */
export function timedCaller(caller: QlessCaller, metrics: JobMetrics): QlessCaller {
  return {
    workerName: caller.workerName,
    now: () => caller.now(),
    async call(command: string, ...args: ScriptArg[]): Promise<ScriptReply> {
      const start = performance.now();
      try {
        return await caller.call(command, ...args);
      } finally {
        metrics.scriptCall(command, (performance.now() - start) / 1000);
      }
    },
  };
}
