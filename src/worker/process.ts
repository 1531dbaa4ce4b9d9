// Worker process entry, forked by the supervisor (cwd = the slot's sandbox). Waits for its
// config over IPC, connects, loads the --import modules, says `ready`, polls, and leaves in two
// phases (stop taking work, then drain) when told to stop, when the supervisor disappears, or
// when it has to recycle itself (max-jobs / max-memory).
import { chdir } from 'node:process';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../client/client.ts';
import type { Logger } from '../log.ts';
import type { LevelWithSilent } from 'pino';
import { CallBatcher } from './call-batcher.ts';
import { HeldJobs } from './held-jobs.ts';
import { isSupervisorMessage, type WorkerConfig, type WorkerMessage } from '../protocol/ipc.ts';
import { exitProcess, installProcessGuard } from './job/job-scope.ts';
import { Poller, type LeaveReason } from './poller.ts';
import { createReserver } from './reserver.ts';
import { createWorkerLogger } from './log-output.ts';
import { loadModule } from './handler/module-loader.ts';
import { JobRunner } from './job/runner.ts';
import { emptySandbox } from './job/sandbox.ts';
import { WorkEvents } from './work-events.ts';

/** Signals a terminal sends to the whole process group: the supervisor acts on them, not us. */
const GROUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR2', 'SIGTTIN', 'SIGTTOU'];

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    try {
      // The callback fires once the message is handed to the channel (or the channel failed).
      process.send(message, undefined, {}, () => resolve());
    } catch {
      resolve();
    }
  });
}

function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * Loads one --import module: a path (already absolute from the CLI), else a package seen from the
 * handler project; files go through the same loader as handlers, so TypeScript works in both
 * entry modes.
 */
async function loadImport(specifier: string, handlerPath: string): Promise<void> {
  if (isAbsolute(specifier)) {
    await loadModule(specifier);
    return;
  }
  if (specifier.startsWith('file:')) {
    await loadModule(fileURLToPath(specifier));
    return;
  }
  let resolved: string | undefined;
  try {
    resolved = createRequire(join(handlerPath, 'package.json')).resolve(specifier);
  } catch {
    // Not resolvable from the handler project (or ESM-only without a require condition): try ours.
  }
  if (resolved) await loadModule(resolved);
  else await import(specifier);
}

class WorkerProcess {
  private readonly logger: Logger;
  private readonly client: Client;
  private readonly held: HeldJobs;
  private readonly batcher: CallBatcher;
  private readonly runner: JobRunner;
  private readonly poller: Poller;
  private readonly events: WorkEvents;
  private stopRequested: 'stop' | 'disconnect' | undefined;
  /** Set by the supervisor's stop: when the jobs still running are handed back. */
  private handBackAt: number | undefined;
  private lastRedisError = '';

  constructor(private readonly config: WorkerConfig) {
    this.logger = createWorkerLogger({
      level: config.logLevel as LevelWithSilent,
      base: { worker: config.name, slot: config.slot },
    });
    // Calls wait for Redis however long it is away (ioredis would fail them after about 10 s of
    // reconnecting): a job that ends during an outage is completed once Redis is back, instead of
    // waiting out its lock and running again. Calls in flight when the connection broke are sent
    // again after the reconnect (a complete that had run is then refused, and only logged).
    this.client = new Client({
      url: config.redis,
      workerName: config.name,
      redisOptions: { maxRetriesPerRequest: null },
    });
    this.client.redis.on('error', (error: Error) => this.onRedisError(error));
    this.client.redis.on('ready', () => {
      if (this.lastRedisError) this.logger.info('connected to Redis again');
      this.lastRedisError = '';
    });
    this.held = new HeldJobs((jobs) => void send({ type: 'jobs', jobs }));
    this.batcher = new CallBatcher((calls) => {
      const batch = this.client.batch();
      for (const call of calls) batch.call(call.command, ...call.args);
      return batch.exec();
    });
    this.runner = new JobRunner(
      { name: config.name, path: config.path, sandbox: config.sandbox, concurrency: config.concurrency },
      { client: this.client, batcher: this.batcher, held: this.held, logger: this.logger },
    );
    this.events = new WorkEvents(this.client, config.name, config.queues, {
      onLockLost: (jid, event) => this.runner.lockLost(jid, event),
      onWork: () => this.poller.wake.wake(),
      onError: (error) => this.onRedisError(error),
    });
    this.poller = new Poller(
      {
        name: config.name,
        interval: config.interval,
        concurrency: config.concurrency,
        maxJobs: config.maxJobs,
        maxMemory: config.maxMemory,
        paused: config.paused,
        resume: config.resume,
      },
      {
        client: this.client,
        batcher: this.batcher,
        reserver: createReserver(config.reserver, config.queues),
        runner: this.runner,
        logger: this.logger,
        workWatch: this.events,
      },
    );
  }

  /** IPC from the supervisor. */
  onMessage(message: unknown): void {
    if (!isSupervisorMessage(message)) return;
    switch (message.type) {
      case 'ping':
        void send({ type: 'pong', id: message.id });
        break;
      case 'pause':
        this.poller.pause();
        this.logger.info('paused: not taking new jobs');
        break;
      case 'resume':
        this.poller.resume();
        this.logger.info('resumed');
        break;
      case 'stop':
        this.handBackAt = message.handBackAt;
        this.requestStop('stop');
        break;
      case 'config':
        break;
    }
  }

  /** Stop polling and drain; `disconnect` = the supervisor is gone. */
  requestStop(why: 'stop' | 'disconnect'): void {
    if (this.stopRequested) return;
    this.stopRequested = why;
    this.logger.info(
      { why },
      why === 'disconnect'
        ? 'supervisor gone: finishing jobs in flight, then exiting'
        : 'stopping: finishing jobs in flight',
    );
    this.poller.stop();
  }

  async run(): Promise<never> {
    const { config, logger } = this;
    installProcessGuard({
      onFatal: (error) => {
        logger.fatal({ err: error }, 'uncaught exception outside any job: exiting');
        this.held.flush();
        void flushLogger(logger).then(() => exitProcess(1));
      },
      onUnhandledRejection: (reason) => logger.error({ err: reason }, 'unhandled promise rejection outside any job'),
    });
    // Leftovers of a previous process in this slot go before anything runs here.
    emptySandbox(config.sandbox);
    chdir(config.sandbox);
    for (const specifier of config.imports) {
      await loadImport(specifier, config.path);
      logger.debug({ module: specifier }, 'imported');
    }
    await this.events.start();
    logger.info(
      {
        queues: config.queues,
        concurrency: config.concurrency,
        reserver: config.reserver,
        interval: config.interval,
        paused: this.poller.isPaused,
      },
      'worker ready',
    );
    await send({ type: 'ready' });

    let reason: LeaveReason = { kind: 'stop' };
    if (!this.stopRequested) reason = await this.poller.run();
    // The supervisor's stop says when to hand back (it kills us a little later); otherwise (the
    // supervisor is gone, or a TERM sent to this process) --shutdown-timeout from now.
    const deadlineMs =
      this.handBackAt !== undefined ? Math.max(0, this.handBackAt - Date.now()) : config.shutdownTimeout * 1000;
    await this.poller.drain(deadlineMs);
    if (reason.kind === 'recycle') {
      logger.info({ reason: reason.reason }, 'recycling: leaving so the supervisor starts a fresh process');
      await send({ type: 'recycle', reason: reason.reason });
    } else {
      await this.deregister();
    }
    this.held.flush();
    await this.events.close().catch(() => undefined);
    await this.client.close().catch(() => undefined);
    logger.info('worker exiting');
    await flushLogger(logger);
    return exitProcess(0);
  }

  private async deregister(): Promise<void> {
    try {
      await this.client.call('worker.deregister', this.config.name);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not deregister the worker name');
    }
  }

  private onRedisError(error: Error): void {
    // ioredis reports every failed reconnect; one line per kind of trouble is enough.
    if (error.message === this.lastRedisError) return;
    this.lastRedisError = error.message;
    this.logger.error(
      { err: error, redis: this.config.redis.replace(/\/\/[^@]*@/, '//***@') },
      'Redis connection error; retrying',
    );
  }
}

function main(): void {
  if (!process.send) {
    process.stderr.write('src/worker/process.ts is started by the qless-worker supervisor (over IPC), not by hand\n');
    process.exit(2);
  }
  for (const signal of GROUP_SIGNALS) process.on(signal, () => undefined);
  let worker: WorkerProcess | undefined;
  const early: unknown[] = [];
  process.on('message', (message: unknown) => {
    if (worker) return worker.onMessage(message);
    if (!isSupervisorMessage(message)) return;
    if (message.type !== 'config') {
      early.push(message);
      return;
    }
    worker = new WorkerProcess(message.config);
    for (const queued of early.splice(0)) worker.onMessage(queued);
    worker.run().catch((error: unknown) => {
      process.stderr.write(
        `qless worker ${message.config.name} could not start: ` +
          `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      exitProcess(1);
    });
  });
  process.on('SIGTERM', () => {
    if (worker) worker.requestStop('stop');
    else exitProcess(0);
  });
  process.on('disconnect', () => {
    if (worker) worker.requestStop('disconnect');
    else exitProcess(0);
  });
}

main();
