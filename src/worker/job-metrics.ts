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
// The tallies stay from one report to the next, zeroed in place when reported (only those that
// counted nothing in a whole period are dropped): a busy worker's jobs thus always find their
// tally the same way. Made anew after every report, the first job of each period took branches
// the job path's optimized code had never seen, and V8 deoptimized and compiled it again (the
// runner's `run` among them), which cost a short drain several per cent of its throughput.
import type { QlessCaller } from '../client/script-caller.ts';
import type { HistoryEntry, JobJson, ScriptArg, ScriptReply } from '../client/types.ts';
import {
  type BucketCounts,
  countValue,
  DURATION_BUCKETS,
  SCRIPT_CALL_BUCKETS,
  totalCount,
  WAIT_BUCKETS,
} from '../protocol/histogram.ts';
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
  private readonly tallies = new Map<string, JobTally>();
  /** The tally of the last job: the next job is mostly of the same queue and klass (no key to build then). */
  private lastTally: JobTally | undefined;
  private readonly calls = new Map<string, ScriptCallTimes>();
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

  /** One script call and its round trip (the call batcher tells each call of a flush: its RoundTripTimer). */
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

  /**
   * Reports what each tally and call time counted since the last report (copies), then zeroes
   * them in place; one that counted nothing since the last report is dropped instead (so a worker
   * that saw many klasses once does not keep them all).
   */
  private sendNow(): void {
    const jobs: JobTally[] = [];
    for (const [key, tally] of this.tallies) {
      if (!tallyCounted(tally)) {
        this.tallies.delete(key);
        if (this.lastTally === tally) this.lastTally = undefined;
      } else {
        jobs.push(takeTally(tally));
      }
    }
    const calls: ScriptCallTimes[] = [];
    for (const [command, times] of this.calls) {
      if (totalCount(times.seconds) === 0) this.calls.delete(command);
      else calls.push({ command, seconds: takeCounts(times.seconds) });
    }
    const report: WorkerMetricsReport = { jobs, calls };
    this.report(report);
  }
}

/** Whether a tally counted anything since it was last reported. */
function tallyCounted(tally: JobTally): boolean {
  return (
    tally.started + tally.completed + tally.retried + tally.handedBack + tally.lockLost + tally.canceled > 0 ||
    totalCount(tally.durationSeconds) > 0 ||
    totalCount(tally.waitSeconds) > 0 ||
    Object.keys(tally.failed).length > 0
  );
}

/** A copy of the tally for a report; the tally itself is zeroed. */
function takeTally(tally: JobTally): JobTally {
  const taken: JobTally = {
    ...tally,
    durationSeconds: takeCounts(tally.durationSeconds),
    waitSeconds: takeCounts(tally.waitSeconds),
  };
  tally.started = 0;
  tally.completed = 0;
  tally.retried = 0;
  tally.handedBack = 0;
  tally.lockLost = 0;
  tally.canceled = 0;
  if (Object.keys(tally.failed).length > 0) tally.failed = {};
  return taken;
}

/** A copy of the counts for a report; the counts themselves are zeroed. */
function takeCounts(histogram: BucketCounts): BucketCounts {
  const taken: BucketCounts = { counts: histogram.counts.slice(), sum: histogram.sum };
  histogram.counts.fill(0);
  histogram.sum = 0;
  return taken;
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
