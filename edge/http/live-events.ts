import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './http-deps.js';

/** A stream that has this much unsent data is a client that stopped reading: it is closed, not buffered. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export async function eventRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  let clients = 0;
  const pingMs = deps.ssePingMs ?? 15_000;

  app.get('/api/events', async (request, reply) => {
    if (clients >= deps.maxSseClients) {
      return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: `too many live streams (max ${deps.maxSseClients})` });
    }
    clients++;
    deps.metrics.sseClients.set(clients);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (text: string) => {
      if (raw.writableLength > MAX_BUFFERED_BYTES) {
        deps.log.warn({ remoteAddress: request.ip }, 'live stream closed: client is not reading');
        raw.destroy();
        return;
      }
      raw.write(text);
    };
    send(`retry: 3000\nevent: hello\ndata: ${JSON.stringify({ storeId: deps.storeId })}\n\n`);
    const subscription = deps.events.live().subscribe((event) => send(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`));
    const ping = setInterval(() => send(': ping\n\n'), pingMs);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      subscription.unsubscribe();
      clients--;
      deps.metrics.sseClients.set(clients);
    };
    raw.on('close', close);
    raw.on('error', close);
  });
}
