// The package's entry (`import … from 'qless-worker'`): the qless client, and the type of the
// job object handlers receive. The package runs TypeScript through tsx (no build step), so
// importing it at run time needs tsx's loader (handlers run under it); `import type` works anywhere.
export * from './client/index.ts';
export type { WorkerJob, WorkerJobContext, SettlingCall } from './worker/job/worker-job.ts';
export type { Logger } from './log.ts';
