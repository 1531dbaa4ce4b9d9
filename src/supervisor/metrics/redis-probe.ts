// Whether Redis answers the supervisor, for qless_redis_up and /readyz: its connection is up and
// a PING, sent every PROBE_EVERY_MS, came back within PING_TIMEOUT_MS. A closed connection is
// seen at once; a Redis that hangs (frozen, overloaded) once its ping is late. One ping at a time.
import type { SupervisorCalls } from '../redis-calls.ts';

const PROBE_EVERY_MS = 1_000;
const PING_TIMEOUT_MS = 1_000;

export class RedisProbe {
  private answered = false;
  private pingSentAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly calls: SupervisorCalls) {}

  get up(): boolean {
    return this.calls.connected && this.answered;
  }

  start(): void {
    this.probe();
    this.timer = setInterval(() => this.probe(), PROBE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private probe(): void {
    if (!this.calls.connected) {
      this.answered = false;
      return;
    }
    if (this.pingSentAt !== undefined) {
      if (Date.now() - this.pingSentAt > PING_TIMEOUT_MS) this.answered = false;
      return;
    }
    const sentAt = Date.now();
    this.pingSentAt = sentAt;
    this.calls.ping().then(
      () => {
        this.pingSentAt = undefined;
        this.answered = Date.now() - sentAt <= PING_TIMEOUT_MS;
      },
      () => {
        this.pingSentAt = undefined;
        this.answered = false;
      },
    );
  }
}
