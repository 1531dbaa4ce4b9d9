// Worker process entry, forked by the supervisor (cwd = the slot's sandbox). Waits for its
// config over IPC, connects, loads the --import modules, says `ready`, and hands the work to the
// manager. The supervisor's stop (or its disappearance, or a TERM) becomes the manager's
// stop(deadline); a recycle (max-jobs / max-memory) is the manager's own decision. Then it
// deregisters (unless recycling, when the next process keeps the name) and exits.
import { chdir } from 'node:process';
import { setFlagsFromString } from 'node:v8';
import type { LevelWithSilent } from 'pino';
import { Client } from '../client/client.ts';
import type { BatchResult, ScriptCall } from '../client/script-caller.ts';
import { redactPassword } from '../client/connection.ts';
import type { Logger } from '../log.ts';
import { isSupervisorMessage, type WorkerConfig, type WorkerMessage } from '../protocol/ipc.ts';
import { WORKER_FULL_SPEED_FLAGS, WORKER_LEAN_START_FLAGS } from '../protocol/v8-flags.ts';
import { CallBatcher } from './call-batcher.ts';
import { Fetcher } from './fetcher.ts';
import { loadImport } from './handler/imports.ts';
import { HeldJobs } from './held-jobs.ts';
import { JobMetrics, timedCaller } from './job-metrics.ts';
import { exitProcess, installProcessGuard } from './job/job-scope.ts';
import { JobRunner } from './job/runner.ts';
import { emptySandbox } from './job/sandbox.ts';
import { createWorkerLogger } from './log-output.ts';
import { Manager } from './manager.ts';
import { Reconciler } from './reconciler.ts';
import { createReserver } from './reserver.ts';
import { WakeSignal } from './wake-signal.ts';
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

class WorkerProcess {
  private readonly logger: Logger;
  private readonly client: Client;
  private readonly held: HeldJobs;
  /** Only when the pool serves metrics. */
  private readonly metrics: JobMetrics | undefined;
  private readonly batcher: CallBatcher;
  private readonly runner: JobRunner;
  private readonly fetcher: Fetcher;
  private readonly manager: Manager;
  private readonly events: WorkEvents;
  /** The stop under way, once one was asked for. */
  private stopping: Promise<void> | undefined;
  private lastRedisError = '';

  constructor(private readonly config: WorkerConfig) {
    this.logger = createWorkerLogger({
      level: config.logLevel as LevelWithSilent,
      base: { worker: config.name, slot: config.slot },
    });
    // Calls wait for Redis however long it is away (ioredis would fail them after about 10 s of
    // reconnecting): a job that ends during an outage is completed once Redis is back, instead of
    // waiting out its lock and running again. Calls in flight when the connection broke are sent
    // again after the reconnect (a complete that had run is then refused, and only logged; a pop
    // that had run leaves its jobs held under our name unknown to us: the fetcher's reconcile).
    this.client = new Client({
      url: config.redis,
      workerName: config.name,
      redisOptions: { maxRetriesPerRequest: null },
    });
    this.client.redis.on('error', (error: Error) => this.onRedisError(error));
    let connectedBefore = false;
    this.client.redis.on('ready', () => {
      if (this.lastRedisError) this.logger.info('connected to Redis again');
      this.lastRedisError = '';
      // Every 'ready' after the first is a reconnect: replies in flight at the break were lost.
      if (connectedBefore) this.fetcher.requestReconcile();
      connectedBefore = true;
    });
    this.held = new HeldJobs((jobs) => void send({ type: 'jobs', jobs }));
    const metrics = config.metrics ? new JobMetrics((report) => void send({ type: 'metrics', report })) : undefined;
    this.metrics = metrics;
    const sendBatch = (calls: readonly ScriptCall[]): Promise<BatchResult[]> => {
      const batch = this.client.batch();
      for (const call of calls) batch.call(call.command, ...call.args);
      return batch.exec();
    };
    this.batcher = new CallBatcher(
      sendBatch,
      metrics ? (command, seconds) => metrics.scriptCall(command, seconds) : undefined,
    );
    this.runner = new JobRunner(
      { name: config.name, path: config.path, sandbox: config.sandbox, concurrency: config.concurrency },
      {
        client: metrics ? timedCaller(this.client, metrics) : this.client,
        batcher: this.batcher,
        held: this.held,
        logger: this.logger,
        metrics,
      },
    );
    const wake = new WakeSignal();
    this.events = new WorkEvents(this.client, config.name, config.queues, {
      onLockLost: (jid, event) => this.runner.lockLost(jid, event),
      onWork: () => wake.wake(),
      onError: (error) => this.onRedisError(error),
    });
    this.fetcher = new Fetcher(
      { name: config.name, interval: config.interval, resume: config.resume },
      {
        batcher: this.batcher,
        reserver: createReserver(config.reserver, config.queues),
        logger: this.logger,
        workWatch: this.events,
        wake,
        reconciler: new Reconciler(config.name, {
          client: this.client,
          batcher: this.batcher,
          held: this.held,
          logger: this.logger,
        }),
      },
    );
    this.manager = new Manager(
      {
        name: config.name,
        concurrency: config.concurrency,
        maxJobs: config.maxJobs,
        maxMemory: config.maxMemory,
        paused: config.paused,
      },
      { fetcher: this.fetcher, runner: this.runner, logger: this.logger, wake },
    );
  }

  /** IPC from the supervisor. */
  onMessage(message: unknown): void {
    if (!isSupervisorMessage(message)) return;
    switch (message.type) {
      case 'ping':
        void send({ type: 'pong', id: message.id, rss: process.memoryUsage.rss() });
        break;
      case 'pause':
        this.manager.pause();
        this.logger.info({ event: 'paused' }, 'paused: not taking new jobs');
        break;
      case 'resume':
        this.manager.resume();
        this.logger.info({ event: 'resumed' }, 'resumed');
        break;
      case 'stop':
        this.requestStop('stop', message.handBackAt);
        break;
      case 'config':
        break;
    }
  }

  /**
   * Stops the manager; `disconnect` = the supervisor is gone. The jobs still running at
   * `handBackAt` (ms since the epoch) are handed back: the supervisor's stop says when (it kills
   * the process a little later); otherwise --shutdown-timeout from now.
   */
  requestStop(why: 'stop' | 'disconnect', handBackAt = Date.now() + this.config.shutdownTimeout * 1000): void {
    if (this.stopping !== undefined) return;
    this.logger.info(
      { event: 'stopping', why },
      why === 'disconnect'
        ? 'supervisor gone: finishing jobs in flight, then exiting'
        : 'stopping: finishing jobs in flight',
    );
    this.stopping = this.manager.stop(handBackAt);
  }

  async run(): Promise<never> {
    const { config, logger } = this;
    installProcessGuard({
      onFatal: (error) => {
        logger.fatal({ err: error }, 'uncaught exception outside any job: exiting');
        this.held.flush();
        this.metrics?.flush();
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
        paused: this.manager.isPaused,
        event: 'ready',
      },
      'worker ready',
    );
    await send({ type: 'ready' });
    runAtFullSpeed();

    const reason = await this.manager.run();
    // Told to stop: that stop is under way. A recycle gives the jobs in flight --shutdown-timeout,
    // undisturbed.
    await (this.stopping ?? this.manager.stop(Date.now() + config.shutdownTimeout * 1000, 'recycle'));
    if (reason.kind === 'recycle') {
      logger.info(
        { event: 'recycling', reason: reason.reason },
        'recycling: leaving so the supervisor starts a fresh process',
      );
      await send({ type: 'recycle', reason: reason.reason });
    } else {
      await this.deregister();
    }
    this.held.flush();
    this.metrics?.flush();
    await this.events.close().catch(() => undefined);
    await this.client.close().catch(() => undefined);
    logger.info({ event: 'exiting' }, 'worker exiting');
    await flushLogger(logger);
    return exitProcess(0);
  }

  private async deregister(): Promise<void> {
    try {
      await this.client.workers.deregister(this.config.name);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not deregister the worker name');
    }
  }

  private onRedisError(error: Error): void {
    // ioredis reports every failed reconnect; one line per kind of trouble is enough.
    if (error.message === this.lastRedisError) return;
    this.lastRedisError = error.message;
    this.logger.error({ err: error, redis: redactPassword(this.config.redis) }, 'Redis connection error; retrying');
  }
}

/** Started lean (src/protocol/v8-flags.ts): the job path and the handlers are compiled as usual from now on. */
function runAtFullSpeed(): void {
  if (WORKER_LEAN_START_FLAGS.every((flag) => process.execArgv.includes(flag)))
    setFlagsFromString(WORKER_FULL_SPEED_FLAGS.join(' '));
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
