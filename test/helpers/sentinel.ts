// A private Redis Sentinel set-up of real processes: a primary, a replica (--replicaof) and three
// sentinels (redis-server <conf> --sentinel) on free loopback ports, tuned so that a failover
// takes a couple of seconds. Tests and the failover bench kill the primary and watch what follows.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { dataNodeArgs, RedisProcess } from './redis-process.ts';

export interface SentinelClusterOptions {
  /** The master name the sentinels monitor. Default `qless`. */
  masterName?: string;
  /** requirepass (and masterauth) of the data nodes; the sentinels get it as auth-pass. */
  password?: string;
  /** requirepass of the sentinels. */
  sentinelPassword?: string;
  /** Sentinel's down-after-milliseconds. Default 1000. */
  downAfterMs?: number;
  /** Sentinel's failover-timeout. Default 10000. */
  failoverTimeoutMs?: number;
  /** Everything over TLS only (data nodes, replication, sentinels), with this CA and server certificate. */
  tls?: { ca: string; cert: string; key: string };
}

/** How long the sentinels took to promote a replica after the primary died. */
export interface Promotion {
  /** The new primary's port. */
  port: number;
  /** ms since the epoch when a sentinel first named the new primary. */
  at: number;
}

export class SentinelCluster {
  readonly masterName: string;

  private constructor(
    readonly nodes: RedisProcess[],
    readonly sentinels: RedisProcess[],
    private readonly options: SentinelClusterOptions,
  ) {
    this.masterName = options.masterName ?? 'qless';
  }

  /** Starts a primary, one replica and three sentinels; resolves once they all know each other. */
  static async start(options: SentinelClusterOptions = {}): Promise<SentinelCluster> {
    const tls = options.tls !== undefined;
    const primary = await RedisProcess.start({ tls, args: (port, dir) => dataNodeCommand(options, port, dir, []) });
    const replica = await RedisProcess.start({
      tls,
      args: (port, dir) => dataNodeCommand(options, port, dir, ['--replicaof', '127.0.0.1', String(primary.port)]),
    });
    const cluster = new SentinelCluster([primary, replica], [], options);
    try {
      for (let i = 0; i < 3; i++) {
        cluster.sentinels.push(
          await RedisProcess.start({
            tls,
            args: (port, dir) => [cluster.writeSentinelConfig(port, dir, primary.port), '--sentinel'],
          }),
        );
      }
      await cluster.waitForReplicaInSync(replica.port);
      await cluster.waitForTopology(primary.port, [replica.port]);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private writeSentinelConfig(port: number, dir: string, primaryPort: number): string {
    const name = this.masterName;
    const { tls } = this.options;
    const lines = [
      ...(tls
        ? ['port 0', `tls-port ${port}`, `tls-cert-file ${tls.cert}`, `tls-key-file ${tls.key}`]
        : [`port ${port}`]),
      // Over TLS: to the data nodes and the other sentinels too (tls-replication).
      ...(tls ? [`tls-ca-cert-file ${tls.ca}`, 'tls-replication yes', 'tls-auth-clients no'] : []),
      'bind 127.0.0.1',
      'daemonize no',
      `dir ${dir}`,
      'loglevel warning',
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${name} ${this.options.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${name} ${this.options.failoverTimeoutMs ?? 10_000}`,
      `sentinel parallel-syncs ${name} 1`,
    ];
    if (this.options.password) lines.push(`sentinel auth-pass ${name} ${this.options.password}`);
    // Sentinels also use their own requirepass to talk to each other.
    if (this.options.sentinelPassword) lines.push(`requirepass ${this.options.sentinelPassword}`);
    const file = join(dir, 'sentinel.conf');
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  /** `redis+sentinel://[auth@]127.0.0.1:<s1>,…/<master>[/db]`; `rediss+sentinel://…?tls_ca=<ca>` over TLS. */
  url(options: { auth?: string; db?: number } = {}): string {
    const hosts = this.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(',');
    const auth = options.auth ? `${options.auth}@` : '';
    const db = options.db === undefined ? '' : `/${options.db}`;
    const { tls } = this.options;
    const scheme = tls ? 'rediss+sentinel' : 'redis+sentinel';
    return `${scheme}://${auth}${hosts}/${this.masterName}${db}${tls ? `?tls_ca=${tls.ca}` : ''}`;
  }

  private tlsOptions(): { tls?: { ca: Buffer } } {
    return this.options.tls ? { tls: { ca: readFileSync(this.options.tls.ca) } } : {};
  }

  /** A plain connection to one data node (for assertions); the caller disconnects it. */
  connect(port: number): Redis {
    const redis = new Redis(port, '127.0.0.1', {
      password: this.options.password,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      ...this.tlsOptions(),
    });
    redis.on('error', () => undefined);
    return redis;
  }

  private sentinelConnection(sentinel: RedisProcess): Redis {
    const redis = new Redis(sentinel.port, '127.0.0.1', {
      password: this.options.sentinelPassword,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      ...this.tlsOptions(),
    });
    redis.on('error', () => undefined);
    return redis;
  }

  /** The primary's port as each live sentinel names it now. */
  async primaryPorts(): Promise<number[]> {
    const ports: number[] = [];
    for (const sentinel of this.sentinels) {
      const redis = this.sentinelConnection(sentinel);
      try {
        const reply = (await redis.call('SENTINEL', 'get-master-addr-by-name', this.masterName)) as [string, string];
        ports.push(Number(reply[1]));
      } finally {
        redis.disconnect();
      }
    }
    return ports;
  }

  /** The node whose port every sentinel names as the primary (they may take a moment to agree). */
  async primary(): Promise<RedisProcess> {
    let found: RedisProcess | undefined;
    let ports: number[] = [];
    await poll('the sentinels to agree on the primary', async () => {
      ports = await this.primaryPorts();
      found = this.nodes.find((candidate) => ports.every((port) => port === candidate.port));
      return found !== undefined;
    }).catch(() => {
      throw new Error(`the sentinels disagree on the primary: ${ports.join(', ')}`);
    });
    return found as RedisProcess;
  }

  /** kill -9 of the current primary; resolves with it and the time of the kill (ms since the epoch). */
  async killPrimary(): Promise<{ node: RedisProcess; at: number }> {
    const node = await this.primary();
    const at = Date.now();
    await node.kill();
    return { node, at };
  }

  /** A manual failover (SENTINEL FAILOVER): a replica is promoted, the primary demoted while it is up. */
  async failover(): Promise<void> {
    const redis = this.sentinelConnection(this.sentinels[0]);
    try {
      await redis.call('SENTINEL', 'FAILOVER', this.masterName);
    } finally {
      redis.disconnect();
    }
  }

  /** Waits until a sentinel names another primary than `oldPort` (polled every 20 ms). */
  async waitForPromotion(oldPort: number, timeout = 30_000): Promise<Promotion> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const ports = await this.primaryPorts().catch(() => [] as number[]);
      const moved = ports.find((port) => port !== oldPort);
      if (moved !== undefined) return { port: moved, at: Date.now() };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no sentinel promoted a replica within ${timeout} ms of the primary on ${oldPort} dying`);
  }

  /** Starts a killed node again as a replica of the current primary and waits until it is in sync. */
  async rejoin(node: RedisProcess): Promise<void> {
    const primary = await this.primary();
    await node.restart((port, dir) =>
      dataNodeCommand(this.options, port, dir, ['--replicaof', '127.0.0.1', String(primary.port)]),
    );
    await this.waitForReplicaInSync(node.port);
    await this.waitForTopology(
      primary.port,
      this.nodes.filter((other) => other !== primary).map((other) => other.port),
    );
  }

  private async waitForReplicaInSync(port: number): Promise<void> {
    const redis = this.connect(port);
    try {
      await poll(`the replica on ${port} to sync`, async () => {
        const info = await redis.info('replication');
        return /master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info);
      });
    } finally {
      redis.disconnect();
    }
  }

  /** Every sentinel sees the primary, these replicas (up) and the two other sentinels. */
  private async waitForTopology(primaryPort: number, replicaPorts: number[]): Promise<void> {
    for (const sentinel of this.sentinels) {
      const redis = this.sentinelConnection(sentinel);
      try {
        await poll(`sentinel ${sentinel.port} to see the set-up`, async () => {
          const master = (await redis.call('SENTINEL', 'get-master-addr-by-name', this.masterName)) as string[];
          if (Number(master?.[1]) !== primaryPort) return false;
          const replicas = (await redis.call('SENTINEL', 'replicas', this.masterName)) as string[][];
          const up = replicas.map(fields).filter((replica) => !/s_down|disconnected/.test(replica.flags ?? ''));
          if (!replicaPorts.every((port) => up.some((replica) => Number(replica.port) === port))) return false;
          const others = (await redis.call('SENTINEL', 'sentinels', this.masterName)) as string[][];
          return others.length === this.sentinels.length - 1;
        });
      } finally {
        redis.disconnect();
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.nodes].map((node) => node.stop()));
  }
}

/** A data node's redis-server options: password, TLS only (with TLS replication), then `extra`. */
function dataNodeCommand(options: SentinelClusterOptions, port: number, dir: string, extra: string[]): string[] {
  const auth = options.password ? ['--requirepass', options.password, '--masterauth', options.password] : [];
  const { tls } = options;
  if (!tls) return dataNodeArgs(port, dir, [...auth, ...extra]);
  return dataNodeArgs(0, dir, [
    ...['--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key],
    ...['--tls-ca-cert-file', tls.ca, '--tls-replication', 'yes', '--tls-auth-clients', 'no'],
    ...auth,
    ...extra,
  ]);
}

/** SENTINEL replies list fields as name, value, name, value… */
function fields(list: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) record[list[i]] = list[i + 1];
  return record;
}

async function poll(what: string, probe: () => Promise<boolean>, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}
