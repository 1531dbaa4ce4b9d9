// Reads the qless script has no command for, done with plain Redis reads of the keys qless keeps
// (shared/qless-protocol.md §2). They never write: every change goes through the client.
//   - a page of a queue's waiting jobs (qless only offers `peek`, which spawns and moves jobs)
//   - the age of a queue's oldest waiting job
//   - the number of completed jobs
//   - the newest job of every failure group at once (qless reads one group per call)
//   - whether a queue is known (qless's `queues` counts every queue to answer that)
import type { Redis } from 'ioredis';

const workKey = (queue: string): string => `ql:q:${queue}-work`;

/** Jids of waiting jobs in the order pop would take them (highest score first). */
export async function waitingPage(redis: Redis, queue: string, offset: number, limit: number): Promise<string[]> {
  return redis.zrevrange(workKey(queue), offset, offset + limit - 1);
}

export async function completedCount(redis: Redis): Promise<number> {
  return redis.zcard('ql:completed');
}

/** At most this many priority bands are visited to find the oldest waiting job. */
const MAX_BANDS = 16;

/**
 * When the oldest waiting job of each queue entered its work set (seconds since the epoch), or
 * null when nothing waits. A work score is `priority − entered/1e10`, so within one priority band
 * the highest score is the oldest job: the band heads are found with one ZREVRANGEBYSCORE each,
 * never by reading the whole set. A score that is a whole number (after a `priority` command)
 * or +inf (after `timeout`) carries no time; the job's own `time` field stands in for it.
 */
export async function oldestWaiting(redis: Redis, queues: readonly string[]): Promise<Map<string, number | null>> {
  const result = new Map<string, number | null>();
  // Band by band, every queue at once: one round trip per band, not per queue.
  const upper = new Map<string, string>(queues.map((queue) => [queue, '+inf']));
  const oldest = new Map<string, number>();
  const untimed = new Map<string, Set<string>>();
  for (let band = 0; band < MAX_BANDS && upper.size > 0; band++) {
    const pipeline = redis.pipeline();
    const asked = [...upper];
    for (const [queue, max] of asked)
      pipeline.zrevrangebyscore(workKey(queue), max, '-inf', 'WITHSCORES', 'LIMIT', 0, 1);
    const replies = (await pipeline.exec()) ?? [];
    asked.forEach(([queue], index) => {
      const [error, reply] = replies[index] ?? [null, []];
      const pair = error ? [] : (reply as string[]);
      if (pair.length < 2) {
        upper.delete(queue);
        return;
      }
      const [jid, scoreText] = pair;
      const score = Number(scoreText);
      const priority = Math.ceil(score);
      const entered = (priority - score) * 1e10;
      // Whole-number priorities and an epoch time give a plausible time; anything else (a
      // `priority` or `timeout` score, a fractional priority) is looked up in the job instead.
      if (Number.isFinite(score) && !Number.isInteger(score) && entered > 1e9 && entered < 1e10) {
        oldest.set(queue, Math.min(oldest.get(queue) ?? Number.POSITIVE_INFINITY, entered));
        upper.set(queue, `(${priority - 1}`);
        return;
      }
      if (!untimed.has(queue)) untimed.set(queue, new Set());
      untimed.get(queue)?.add(jid);
      upper.set(queue, `(${scoreText}`);
    });
  }
  // Jobs whose score carries no time: their `time` field (when they were put or last popped).
  const lookups = [...untimed].flatMap(([queue, jids]) => [...jids].map((jid) => [queue, jid] as const));
  if (lookups.length > 0) {
    const pipeline = redis.pipeline();
    for (const [, jid] of lookups) pipeline.hget(`ql:j:${jid}`, 'time');
    const replies = (await pipeline.exec()) ?? [];
    lookups.forEach(([queue], index) => {
      const time = Number(replies[index]?.[1]);
      if (Number.isFinite(time) && time > 0) oldest.set(queue, Math.min(oldest.get(queue) ?? Infinity, time));
    });
  }
  for (const queue of queues) result.set(queue, oldest.get(queue) ?? null);
  return result;
}

/** The newest jid of each failure group (the head of `ql:f:<group>`), in one round trip. */
export async function newestFailed(redis: Redis, groups: readonly string[]): Promise<(string | null)[]> {
  if (groups.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const group of groups) pipeline.lindex(`ql:f:${group}`, 0);
  const replies = (await pipeline.exec()) ?? [];
  return groups.map((_, index) => {
    const [error, jid] = replies[index] ?? [null, null];
    return error || typeof jid !== 'string' ? null : jid;
  });
}

/** Whether qless knows the queue (`ql:queues`), without reading every queue's counts. */
export async function isKnownQueue(redis: Redis, queue: string): Promise<boolean> {
  return (await redis.zscore('ql:queues', queue)) !== null;
}
