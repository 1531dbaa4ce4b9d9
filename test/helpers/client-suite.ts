// The usual fixture of the client and CLI tests, set up in one call inside a describe (or at a
// file's top level): a private qless core whose Redis is flushed before each test, one Client per
// worker name on it, and optionally a fixed clock those clients read, reset before each test.
//
//   const fx = useCore({ workers: ['w1', 'w2'], clock: T0 });
//   test('…', async () => { fx.now += 60; await fx.clients.w1.queue('q').pop(); … });
//
// The fields are filled in `before`: read them inside hooks and tests, not at registration time.
// `after` closes the clients, in the order given, then the core.
import { after, before, beforeEach } from 'node:test';
import { Client } from '../../src/client/index.ts';
import { startCore, type Core } from './qless.ts';

interface CoreFixture<W extends string> {
  /** The private core. */
  core: Core;
  /** Its Redis URL (what `qless` gets as `{ redis: fx.url }`). */
  url: string;
  /** A Client for each worker name given, on `url`. */
  clients: Record<W, Client>;
  /**
   * Runs `use` with a fresh Client for `workerName` whose clock runs `shift` seconds off the real
   * one, then closes it.
   */
  withClient<T>(workerName: string, shift: number, use: (client: Client) => Promise<T>): Promise<T>;
}

interface ClockedCoreFixture<W extends string> extends CoreFixture<W> {
  /** The clients' clock, in seconds: set to `clock` before each test; a test may move it. */
  now: number;
}

interface CoreOptions<W extends string> {
  /** Worker names to make a Client for (none if left out). */
  workers?: readonly W[];
  /** Fixes the clients' clock at this time (seconds) before each test; without it they use the real clock. */
  clock?: number;
}

export function useCore<const W extends string = never>(
  options: CoreOptions<W> & { clock: number },
): ClockedCoreFixture<W>;
export function useCore<const W extends string = never>(
  options?: CoreOptions<W> & { clock?: undefined },
): CoreFixture<W>;
export function useCore<const W extends string>(options: CoreOptions<W> = {}): CoreFixture<W> | ClockedCoreFixture<W> {
  const workers = options.workers ?? [];
  const clock = options.clock;
  const fixture = {
    clients: {} as Record<W, Client>,
    ...(clock === undefined ? {} : { now: clock }),
    withClient: async <T>(workerName: string, shift: number, use: (client: Client) => Promise<T>): Promise<T> => {
      const client = new Client({ url: fixture.url, workerName, now: () => Date.now() / 1000 + shift });
      try {
        return await use(client);
      } finally {
        await client.close();
      }
    },
  } as ClockedCoreFixture<W>;

  before(async () => {
    fixture.core = await startCore();
    fixture.url = fixture.core.server.url;
    const fixedClock = clock === undefined ? {} : { now: () => fixture.now };
    for (const workerName of workers)
      fixture.clients[workerName] = new Client({ url: fixture.url, workerName, ...fixedClock });
  });
  beforeEach(async () => {
    await fixture.core.flush();
    if (clock !== undefined) fixture.now = clock;
  });
  after(async () => {
    for (const workerName of workers) await fixture.clients[workerName].close();
    await fixture.core.close();
  });

  return fixture;
}
