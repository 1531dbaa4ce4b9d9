// klass `pipeline.Steps`: one job that moves through three queues, fetch → resize → publish.
// The export is a class; the worker calls the method named after the queue the job is in. The
// first two steps advance the job themselves with complete(next); the last one just returns,
// and the worker completes the job. Each step adds its name to data.steps (complete stores the
// data, so the next step, perhaps on another worker, sees it).
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerJob } from 'qless-worker';

export interface PipelineData {
  image?: string;
  /** Set by the handler: the steps done so far, in order. */
  steps?: string[];
  /** Set by the resize step: bytes of its scratch file. */
  resizedBytes?: number;
}

type PipelineJob = WorkerJob<PipelineData>;

function record(job: PipelineJob, step: string): void {
  job.data.steps = [...(job.data.steps ?? []), step];
  job.logger.info({ image: job.data.image, steps: job.data.steps }, `pipeline: ${step}`);
}

export class Steps {
  async fetch(job: PipelineJob): Promise<void> {
    record(job, 'fetch');
    await job.complete('resize');
  }

  async resize(job: PipelineJob): Promise<void> {
    record(job, 'resize');
    // Scratch files belong in job.sandbox: it is this job's own directory, emptied after it.
    const scratch = join(job.sandbox, 'resized.txt');
    writeFileSync(scratch, `${job.data.image ?? 'image'} at 200px\n`);
    job.data.resizedBytes = statSync(scratch).size;
    await job.complete('publish');
  }

  publish(job: PipelineJob): void {
    record(job, 'publish');
  }
}
