import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import { principalOf, type AccessGuard } from '../http/auth.js';
import { errorSchema } from '../http/schemas.js';
import {
  deviceBodySchema,
  deviceListSchema,
  deviceParamsSchema,
  deviceSecretSchema,
  deviceViewSchema,
  type DeviceBody,
  type DeviceParams,
  type DeviceView,
} from './device-schemas.js';
import { InvalidDeviceIdError, unmappedShelfWarning, type DeviceRegistry, type DeviceSummary } from './device-registry.js';
import { DeviceExistsError } from './device-store.js';
import type { DeviceLifecycleChange } from './device-source.js';
import type { TransactionStep } from '../storage/database.js';

export type DeviceRouteDeps = {
  /** changes made through it are published as `device.lifecycle` events by its owner (DevicesModule) */
  devices: DeviceRegistry;
  isConnected: (deviceId: string) => boolean;
  guard: AccessGuard;
  log: Logger;
  /** the last battery a device reported, where one is known (shelf labels report theirs to the labels room) */
  batteryMv?: (deviceId: string) => number | null;
  /** the planogram's shelf ids; without it no shelf is flagged unmapped */
  planogramShelves?: () => ReadonlySet<string>;
  /**
   * The audit entry of who changed a device through the API (the token's name; the bus event does not say), committed
   * in the same transaction as the change: an answer of 2xx means both are on disk.
   */
  audited?: (change: { deviceId: string; change: DeviceLifecycleChange; actor: string }) => TransactionStep;
};

const denied = { 401: errorSchema, 403: errorSchema, 429: errorSchema };
const writeErrors = { 400: errorSchema, 404: errorSchema, ...denied };

export function deviceRoutes(deps: DeviceRouteDeps): FastifyPluginAsync {
  return async (app) => registerDeviceRoutes(app, deps);
}

async function registerDeviceRoutes(app: FastifyInstance, deps: DeviceRouteDeps): Promise<void> {
  const view = (device: DeviceSummary, shelves: ReadonlySet<string> | undefined): DeviceView => {
    const batteryMv = deps.batteryMv?.(device.id) ?? null;
    return {
      id: device.id,
      kind: device.kind,
      connected: deps.isConnected(device.id),
      disabled: device.disabled,
      lastSeenAt: device.lastSeenAt,
      ...(batteryMv !== null ? { batteryMv } : {}),
      ...(shelves && device.kind === 'shelf' && !shelves.has(device.id) ? { unmapped: true as const } : {}),
    };
  };
  // devices and their secrets are store IT's: every change needs an admin token
  const admin = deps.guard('admin');
  const notFound = (reply: FastifyReply, id: string) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no device ${id}` });

  app.get('/api/devices', {
    onRequest: deps.guard('viewer'),
    schema: { summary: 'Every registered device', response: { 200: deviceListSchema, ...denied } },
    handler: async () => {
      const shelves = deps.planogramShelves?.();
      return { devices: deps.devices.list().map((device) => view(device, shelves)) };
    },
  });

  app.post<{ Body: DeviceBody }>('/api/devices', {
    onRequest: admin,
    schema: {
      summary: 'Register a device; its secret is shown once',
      body: deviceBodySchema,
      response: { 201: deviceSecretSchema, ...writeErrors, 409: errorSchema },
    },
    handler: async (request, reply) => {
      const { id, kind } = request.body;
      try {
        const secret = await deps.devices.provision(
          id,
          kind,
          undefined,
          deps.audited?.({ deviceId: id, change: 'added', actor: principalOf(request).name }),
        );
        const shelves = deps.planogramShelves?.();
        const warning = shelves ? unmappedShelfWarning(id, kind, shelves) : undefined;
        deps.log.info({ deviceId: id, kind }, 'device provisioned');
        if (warning) deps.log.warn({ deviceId: id, kind }, warning);
        return reply.code(201).send({ id, kind, secret, ...(warning ? { warning } : {}) });
      } catch (error) {
        if (error instanceof DeviceExistsError) return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message });
        if (error instanceof InvalidDeviceIdError)
          return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
        throw error;
      }
    },
  });

  for (const action of ['disable', 'enable'] as const) {
    app.post<{ Params: DeviceParams }>(`/api/devices/:id/${action}`, {
      onRequest: admin,
      schema: {
        summary: action === 'disable' ? 'Disable a device: closes its connection, later connections are refused' : 'Enable a device',
        params: deviceParamsSchema,
        response: { 200: deviceViewSchema, ...writeErrors },
      },
      handler: async (request, reply) => {
        const { id } = request.params;
        const audit = deps.audited?.({
          deviceId: id,
          change: action === 'disable' ? 'disabled' : 'enabled',
          actor: principalOf(request).name,
        });
        const device = await (action === 'disable' ? deps.devices.disable(id, audit) : deps.devices.enable(id, audit));
        if (!device) return notFound(reply, id);
        deps.log.info({ deviceId: id }, action === 'disable' ? 'device disabled' : 'device enabled');
        return view(device, deps.planogramShelves?.());
      },
    });
  }

  app.post<{ Params: DeviceParams }>('/api/devices/:id/rotate-secret', {
    onRequest: admin,
    schema: {
      summary: 'Give a device a new secret (shown once); closes its connection',
      params: deviceParamsSchema,
      response: { 200: deviceSecretSchema, ...writeErrors },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const rotated = await deps.devices.rotateSecret(
        id,
        undefined,
        deps.audited?.({ deviceId: id, change: 'secret-rotated', actor: principalOf(request).name }),
      );
      if (!rotated) return notFound(reply, id);
      deps.log.info({ deviceId: id }, 'device secret rotated');
      return { id, kind: rotated.device.kind, secret: rotated.secret };
    },
  });

  app.delete<{ Params: DeviceParams }>('/api/devices/:id', {
    onRequest: admin,
    schema: {
      summary: 'Remove a device; closes its connection',
      params: deviceParamsSchema,
      response: { 204: Type.Null({ description: 'removed' }), ...writeErrors },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const removed = await deps.devices.remove(id, deps.audited?.({ deviceId: id, change: 'removed', actor: principalOf(request).name }));
      if (!removed) return notFound(reply, id);
      deps.log.info({ deviceId: id }, 'device removed');
      return reply.code(204).send();
    },
  });
}
