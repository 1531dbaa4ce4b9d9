// GET api/events: the live stream (server-sent events through fastify-sse-v2). Each page gets
// `changes`, `pools`, `operation` and `status` messages, and a `ping` every 15 s that keeps
// proxies from closing an idle stream.
import { on } from 'node:events';
import type { FastifyInstance } from 'fastify';
import type { EventMessage } from 'fastify-sse-v2';
import type { LiveMessage } from '../live/hub.ts';
import type { DashboardContext } from './context.ts';

export function registerEventRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/api/events', (request, reply) => {
    const stop = new AbortController();
    request.raw.once('close', () => stop.abort());
    const closing = (): void => stop.abort();
    ctx.hub.emitter.once('close', closing);
    async function* stream(): AsyncGenerator<EventMessage> {
      yield { event: 'hello', data: JSON.stringify({ at: Date.now() }) };
      try {
        const messages = on(ctx.hub.emitter, 'message', { signal: stop.signal });
        for await (const [message] of messages as AsyncIterable<[LiveMessage]>)
          yield { event: message.event, data: JSON.stringify(message.data) };
      } catch {
        // Aborted: the page went away, or the dashboard is closing.
      } finally {
        ctx.hub.emitter.off('close', closing);
      }
    }
    reply.sse(stream());
  });
}
