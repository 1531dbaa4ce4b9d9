// Calls into the unified qless script: EVALSHA sha 0 <command> <now> args…, loading the script
// on NOSCRIPT and turning Redis errors into typed ones. One call, or several in one round trip.
import type { Redis } from 'ioredis';
import { InvalidInputError, isNoScript, toQlessError } from './errors.ts';
import { scriptSha, scriptSource } from './script.ts';
import type { ScriptArg, ScriptReply } from './types.ts';

/** One script call, not yet sent. */
export interface ScriptCall {
  command: string;
  args: ScriptArg[];
}

/** The outcome of one call of a batch. */
export type BatchResult = { ok: true; value: ScriptReply } | { ok: false; error: Error };

/** What the Queue, Job and collection classes need from a client. */
export interface QlessCaller {
  readonly workerName: string;
  /** Seconds since the epoch, as sent to the script. */
  now(): number;
  call(command: string, ...args: ScriptArg[]): Promise<ScriptReply>;
}

/**
 * Sends of a call that met NOSCRIPT: more than two, since a failover can come between the load
 * and the next send (the load reached the old primary, the call the new one).
 */
const LOAD_ATTEMPTS = 3;

export class ScriptCaller {
  private loading: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly now: () => number,
  ) {}

  async call(command: string, args: readonly ScriptArg[]): Promise<ScriptReply> {
    return this.callArgv(command, this.argv(command, args));
  }

  private async callArgv(command: string, argv: string[]): Promise<ScriptReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.evalsha(argv);
      } catch (error) {
        if (!isNoScript(error) || attempt >= LOAD_ATTEMPTS) throw toQlessError(error, command);
      }
      // Redis lost the script (restart, SCRIPT FLUSH, failover): load it and send the call again.
      // A NOSCRIPT reply means nothing ran, so sending it again cannot apply it twice.
      await this.load();
    }
  }

  /** Sends every call in one pipeline; results come back in the same order. */
  async exec(calls: readonly ScriptCall[]): Promise<BatchResult[]> {
    // One call needs no pipeline (a worker at concurrency 1 sends one complete.pop per job).
    if (calls.length === 1) {
      const [{ command, args }] = calls;
      const argv = this.argv(command, args);
      try {
        return [{ ok: true, value: await this.callArgv(command, argv) }];
      } catch (error) {
        return [{ ok: false, error: error instanceof Error ? error : new Error(String(error)) }];
      }
    }
    const argvs = calls.map((call) => this.argv(call.command, call.args));
    const results: BatchResult[] = new Array(calls.length);
    let pending = calls.map((_, index) => index);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const pipeline = this.redis.pipeline();
      for (const index of pending) pipeline.evalsha(scriptSha(), 0, ...argvs[index]);
      const replies = (await pipeline.exec()) ?? [];
      const missing: number[] = [];
      pending.forEach((index, position) => {
        const [error, value] = replies[position] ?? [new Error('no reply from Redis'), null];
        if (error && isNoScript(error) && attempt + 1 < LOAD_ATTEMPTS) missing.push(index);
        else if (error) results[index] = { ok: false, error: toQlessError(error, calls[index].command) };
        else results[index] = { ok: true, value: value as ScriptReply };
      });
      if (missing.length > 0) await this.load();
      pending = missing;
    }
    return results;
  }

  private argv(command: string, args: readonly ScriptArg[]): string[] {
    const now = this.now();
    if (typeof now !== 'number' || !Number.isFinite(now))
      throw new InvalidInputError(`now() must return a finite number of seconds, got ${String(now)}`, command);
    return [command, String(now), ...args.map(String)];
  }

  private evalsha(argv: string[]): Promise<ScriptReply> {
    return this.redis.evalsha(scriptSha(), 0, ...argv) as Promise<ScriptReply>;
  }

  private load(): Promise<void> {
    // Concurrent calls that all hit NOSCRIPT share one SCRIPT LOAD.
    this.loading ??= this.redis
      .script('LOAD', scriptSource())
      .then(() => undefined)
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
