import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { WriteGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import { deviceBodySchema } from './device-schemas.js';
import { InvalidDeviceIdError, type DeviceRegistry } from './device-registry.js';
import { DeviceExistsError } from './device-store.js';
import type { DeviceKind } from './topics.js';

const deviceSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, kind: { type: 'string' }, connected: { type: 'boolean' }, disabled: { type: 'boolean' }, lastSeenAt: { type: ['integer', 'null'] } },
} as const;

export type DeviceRouteDeps = { devices: DeviceRegistry; isConnected: (deviceId: string) => boolean; writeGuard: WriteGuard; log: Logger };

export function deviceRoutes(deps: DeviceRouteDeps): FastifyPluginAsync {
  return async (app) => registerDeviceRoutes(app, deps);
}

async function registerDeviceRoutes(app: FastifyInstance, deps: DeviceRouteDeps): Promise<void> {
  app.get('/api/devices', {
    schema: { response: { 200: { type: 'object', properties: { devices: { type: 'array', items: deviceSchema } } } } },
    handler: async () => ({
      devices: deps.devices.list().map((d) => ({ id: d.id, kind: d.kind, connected: deps.isConnected(d.id), disabled: d.disabled, lastSeenAt: d.lastSeenAt })),
    }),
  });

  app.post<{ Body: { id: string; kind: DeviceKind } }>('/api/devices', {
    onRequest: deps.writeGuard,
    schema: {
      body: deviceBodySchema,
      response: {
        201: { type: 'object', properties: { id: { type: 'string' }, kind: { type: 'string' }, secret: { type: 'string' } } },
        400: errorSchema,
        401: errorSchema,
        403: errorSchema,
        409: errorSchema,
      },
    },
    handler: async (request, reply) => {
      const { id, kind } = request.body;
      try {
        const secret = await deps.devices.provision(id, kind);
        deps.log.info({ deviceId: id, kind }, 'device provisioned');
        return reply.code(201).send({ id, kind, secret });
      } catch (error) {
        if (error instanceof DeviceExistsError) return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message });
        if (error instanceof InvalidDeviceIdError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
        throw error;
      }
    },
  });
}
