// The public API of the qless client.
export { Client, type ClientOptions } from './client.ts';
export { Batch, type BatchResult } from './batch.ts';
export {
  COMPLETE_POP,
  type CompletedState,
  type CompleteOptions,
  completePopCall,
  type CompletePopReply,
  type HeldJobRef,
  type MoveOptions,
  parseCompletePopReply,
  type RetryOptions,
} from './commands.ts';
export { Config, type ConfigValue } from './config.ts';
export {
  DEFAULT_REDIS_URL,
  isSentinelUrl,
  parseRedisUrl,
  redactPassword,
  resolveRedisUrl,
  type RedisTarget,
  type TlsFiles,
  withTlsFiles,
} from './connection.ts';
export { openRedis, redisOptionsFor, SENTINEL_PASSWORD_VARIABLE } from './open-redis.ts';
export { InvalidInputError, JobNotFoundError, LostLockError, QlessError } from './errors.ts';
export {
  Events,
  TRACKED_EVENTS,
  type EventMap,
  type LogEvent,
  type TrackedEvent,
  type TrackedEventName,
} from './events.ts';
export { encodeJson } from './input.ts';
export { Job } from './job.ts';
export { Jobs, type TrackedJobs } from './jobs.ts';
export {
  POOL_KEY_PREFIX,
  POOLS_INDEX_KEY,
  Pools,
  type PoolJob,
  type PoolOptions,
  type PoolSlot,
  type PoolSlotState,
  type PoolStatus,
  publishPool,
  unpublishPool,
} from './pools.ts';
export { newJid, Queue, type PutOptions, type RecurOptions } from './queue.ts';
export { RecurringJob, type RecurringUpdate } from './recurring-job.ts';
export type { QlessCaller, ScriptCall } from './script-caller.ts';
export { scriptSha, scriptSource } from './script.ts';
export type * from './types.ts';
export { Workers } from './workers.ts';
