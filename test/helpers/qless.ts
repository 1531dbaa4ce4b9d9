// Raw access to the qless script for core tests: a fixed `now` per call, key snapshots,
// and captured pub/sub messages. Talks to Redis exactly as every qless client does.
import { Redis } from 'ioredis';
import { scriptSha, scriptSource } from '../../src/client/script.ts';
import { startRedis, type RedisServer } from './redis.ts';

export type Reply = string | number | null | Reply[];

export interface Core {
  server: RedisServer;
  redis: Redis;
  /** EVALSHA sha 0 <command> <now> ...args; throws the Redis error as-is. */
  call(now: number | string, command: string, ...args: (string | number)[]): Promise<Reply>;
  /** Same as call, but resolves to the error message text after the script's `user_script:<n>: ` prefix. */
  error(now: number | string, command: string, ...args: (string | number)[]): Promise<string>;
  /** Every key with its type and full contents, for before/after comparisons. */
  snapshot(): Promise<Record<string, unknown>>;
  /** Starts recording messages on the given channel patterns. */
  listen(...patterns: string[]): Promise<Messages>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface Messages {
  /** [channel, message] pairs received so far, in order. */
  readonly received: [string, string][];
  /** Waits until pending publishes have been delivered, then returns and clears the list. */
  take(): Promise<[string, string][]>;
  close(): Promise<void>;
}

/** The error text as the script raised it, without Redis's wrapping. */
export function scriptMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const scripted = /user_script:\d+: (.*?) script: [0-9a-f]+, on @user_script:\d+\.?$/s.exec(text);
  if (scripted) return scripted[1];
  const fromRedis = /^ERR (.*?) script: [0-9a-f]+, on @user_script:\d+\.?$/s.exec(text);
  if (fromRedis) return fromRedis[1];
  return text;
}

export async function startCore(): Promise<Core> {
  const server = await startRedis();
  const redis = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  const sha = scriptSha();
  await redis.script('LOAD', scriptSource());
  const subscribers: Redis[] = [];

  const call = async (now: number | string, command: string, ...args: (string | number)[]): Promise<Reply> => {
    try {
      return (await redis.evalsha(sha, 0, command, String(now), ...args.map(String))) as Reply;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        await redis.script('LOAD', scriptSource());
        return (await redis.evalsha(sha, 0, command, String(now), ...args.map(String))) as Reply;
      }
      throw error;
    }
  };

  const snapshot = async (): Promise<Record<string, unknown>> => {
    const keys = (await redis.keys('*')).sort();
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') out[key] = await redis.get(key);
      else if (type === 'hash') out[key] = await redis.hgetall(key);
      else if (type === 'list') out[key] = await redis.lrange(key, 0, -1);
      else if (type === 'set') out[key] = (await redis.smembers(key)).sort();
      else if (type === 'zset') out[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else out[key] = type;
    }
    return out;
  };

  const listen = async (...patterns: string[]): Promise<Messages> => {
    const sub = new Redis(server.url);
    subscribers.push(sub);
    const received: [string, string][] = [];
    sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
      received.push([channel, message]);
    });
    await sub.psubscribe(...patterns);
    return {
      received,
      take: async () => {
        // A PING through the publishing connection, then one through the subscriber, orders
        // delivery: everything published before it has reached the subscriber afterwards.
        await redis.ping();
        await sub.ping();
        return received.splice(0, received.length);
      },
      close: async () => {
        sub.disconnect();
      },
    };
  };

  return {
    server,
    redis,
    call,
    error: async (now, command, ...args) => {
      try {
        await call(now, command, ...args);
      } catch (error) {
        return scriptMessage(error);
      }
      throw new Error(`expected ${command} to fail, but it succeeded`);
    },
    snapshot,
    listen,
    flush: async () => {
      await redis.flushdb();
    },
    close: async () => {
      for (const sub of subscribers) sub.disconnect();
      redis.disconnect();
      await server.stop();
    },
  };
}
