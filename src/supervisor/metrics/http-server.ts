// The supervisor's small HTTP server (node:http, no framework): GET /metrics (Prometheus text),
// /healthz (the reconcile loop turns) and /readyz (Redis answers and a worker polls). A probe
// answers 200 or 503 with one line of JSON saying why; anything else is a 404. It listens before
// any worker is forked: a port that is taken or not allowed is a MetricsPortError.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type MetricsAddress, MetricsPortError } from './sources.ts';

/** A probe's verdict. */
export interface Verdict {
  ok: boolean;
  /** Why, in a few words. */
  reason: string;
}

export interface Endpoints {
  metrics(): Promise<{ contentType: string; body: string }>;
  health(): Verdict;
  ready(): Verdict;
}

function sendProbe(response: ServerResponse, verdict: Verdict, head: boolean): void {
  const body = `${JSON.stringify({ status: verdict.ok ? 'ok' : 'unavailable', reason: verdict.reason })}\n`;
  response.writeHead(verdict.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(head ? undefined : body);
}

function why(error: NodeJS.ErrnoException, address: MetricsAddress): string {
  const where = `--metrics-port ${address.port} on --metrics-host ${address.host}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `${where}: the port is already in use`;
    case 'EACCES':
    case 'EPERM':
      return `${where}: not allowed (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: ${address.host} is not an address of this machine`;
    default:
      return `${where}: ${error.message}`;
  }
}

export class MetricsHttpServer {
  private readonly server: Server;

  constructor(private readonly endpoints: Endpoints) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`${error instanceof Error ? error.message : String(error)}\n`);
      });
    });
    // Scrapers keep connections open; they must not hold the supervisor's exit.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens, or rejects with a MetricsPortError saying why it cannot. */
  listen(address: MetricsAddress): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException): void => reject(new MetricsPortError(why(error, address)));
      this.server.once('error', failed);
      this.server.listen({ host: address.host, port: address.port, exclusive: true }, () => {
        this.server.off('error', failed);
        resolve();
      });
    });
  }

  /** The port listened on. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    const head = request.method === 'HEAD';
    if (request.method !== 'GET' && !head) return this.notFound(response);
    switch (path) {
      case '/metrics': {
        const { contentType, body } = await this.endpoints.metrics();
        response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        response.end(head ? undefined : body);
        return;
      }
      case '/healthz':
        return sendProbe(response, this.endpoints.health(), head);
      case '/readyz':
        return sendProbe(response, this.endpoints.ready(), head);
      default:
        return this.notFound(response);
    }
  }

  private notFound(response: ServerResponse): void {
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found: GET /metrics, /healthz or /readyz\n');
  }
}
