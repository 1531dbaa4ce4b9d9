// The latency job: records when the handler started (epoch ms with sub-ms precision) and in
// which process, into the job's data; returning completes the job, which stores that data, so
// the bench reads it from Redis afterwards. Kept apart from noop.ts so throughput pays nothing.

/** The slice of the worker's job object this handler uses (user code: no import from src/). */
interface StampedJob {
  data: Record<string, unknown>;
}

export default function stamp(job: StampedJob): void {
  job.data.startedAt = performance.timeOrigin + performance.now();
  job.data.pid = process.pid;
}
