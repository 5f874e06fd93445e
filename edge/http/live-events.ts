import { principalOf, type RouteHook } from './auth.js';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import { errorSchema } from './schemas.js';

/**
 * A stream that has this much unsent data (beyond what the kernel's socket buffers took) is a client that stopped
 * reading: it is dropped, not buffered.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** A stream ended because its token was revoked gets this long to take its last bytes before its socket is closed. */
const END_GRACE_MS = 1_000;

export type LiveEventDeps = {
  bus: GatewayBus;
  storeId: string;
  maxSseClients: number;
  log: Logger;
  onClientCount: (count: number) => void;
  /** SSE keep-alive comment interval */
  pingMs?: number;
  /** viewer or above; EventSource cannot send headers, so the guard also takes a one-time `?ticket=` */
  guard: RouteHook;
  /** revoked tokens (`Principal.tokenId`): their open streams end, whether opened with the token or with its ticket */
  revocations: { onTokensRevoked(listener: (tokenIds: ReadonlySet<string>) => void): () => void };
};

type LiveClient = { readonly tokenId: string; send(text: string): void; end(): void };

/**
 * `GET /api/events`: the live stream (Server-Sent Events) of what staff see change — `alert`, `stock` and `device`
 * events, read from the bus. One bus subscription per event type fans out to every open stream (at most
 * `maxSseClients`), and each event is serialized once, not once per client.
 */
/** For the OpenAPI document: the stream itself is written to the socket (hijacked), so no schema ever serializes it. */
const liveEventsSchema = {
  summary: 'The live stream of store events (Server-Sent Events)',
  response: {
    200: {
      description: "Server-sent events: hello first, then the gateway's live events (docs/http-api.md), a ping comment now and then",
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    },
    401: errorSchema,
    403: errorSchema,
    429: errorSchema,
    503: errorSchema,
  },
};

export function liveEventRoutes(deps: LiveEventDeps): FastifyPluginAsync {
  return async (app) => {
    const clients = new Set<LiveClient>();
    const pingMs = deps.pingMs ?? 15_000;
    const broadcast = (type: string, data: unknown) => {
      if (clients.size === 0) return;
      const text = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const client of clients) client.send(text);
    };
    const endStreamsOf = (tokenIds: ReadonlySet<string>) => {
      let ended = 0;
      for (const client of clients) {
        if (!tokenIds.has(client.tokenId)) continue;
        client.end();
        ended++;
      }
      if (ended > 0) deps.log.info({ streams: ended }, 'live streams of revoked tokens ended');
    };
    const unsubscribes = [
      deps.revocations.onTokensRevoked(endStreamsOf),
      deps.bus.on('alert.changed', 'live-stream', ({ alert }) => broadcast('alert', alert)),
      deps.bus.on('stock.changed', 'live-stream', ({ view }) => broadcast('stock', view)),
      deps.bus.on('device.connection', 'live-stream', (event) => broadcast('device', event)),
      deps.bus.on('relay.status', 'live-stream', (status) => broadcast('relay', status)),
      deps.bus.on('campaign.progress', 'live-stream', (progress) => broadcast('campaign', progress)),
    ];
    app.addHook('onClose', async () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
    });

    app.get('/api/events', { onRequest: deps.guard, schema: liveEventsSchema }, async (request, reply) => {
      if (clients.size >= deps.maxSseClients) {
        return reply
          .code(503)
          .send({ statusCode: 503, error: 'Service Unavailable', message: `too many live streams (max ${deps.maxSseClients})` });
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const forget = () => {
        if (!clients.delete(client)) return;
        clearInterval(ping);
        deps.onClientCount(clients.size);
      };
      const client: LiveClient = {
        tokenId: principalOf(request).tokenId,
        end() {
          forget();
          raw.end();
          const hold = setTimeout(() => {
            // only a response that has not gone out: a finished one may share its socket with the client's next request
            if (!raw.writableFinished) raw.destroy();
          }, END_GRACE_MS);
          hold.unref();
        },
        send(text) {
          if (raw.writableLength <= MAX_BUFFERED_BYTES) {
            raw.write(text);
            return;
          }
          // out of the set first: the socket closes only later, and no event meanwhile is written to it or logged for it
          // (250 paused browsers once made 7.3 million copies of this line)
          forget();
          const peer = { remoteAddress: request.ip, remotePort: request.socket.remotePort, bufferedBytes: raw.writableLength };
          deps.log.warn(peer, 'live stream closed: client is not reading');
          // destroy, not end: end would queue behind the unsent data and hold it until the client read it
          raw.destroy();
        },
      };
      clients.add(client);
      deps.onClientCount(clients.size);
      const ping = setInterval(() => client.send(': ping\n\n'), pingMs);
      client.send(`retry: 3000\nevent: hello\ndata: ${JSON.stringify({ storeId: deps.storeId })}\n\n`);
      raw.on('close', forget);
      raw.on('error', forget);
    });
  };
}
