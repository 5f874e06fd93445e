import { STATUS_CODES } from 'node:http';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { RouteHook } from './auth.js';
import { hostAllowed } from './host-allow-list.js';
import { validatedSchema, validationInWords } from './schema-error-words.js';
import { apiDocsRoutes, openApiOptions } from './openapi-docs.js';
import { storageErrorReply } from './storage-error-reply.js';

export type HttpAppDeps = {
  log: Logger;
  bodyLimitBytes: number;
  staticDir: string;
  /** every room's routes (and the plumbing's: health, live events), registered in this order; rooms type theirs with
   * `FastifyPluginAsyncTypebox` so request and reply types come from the route's TypeBox schemas */
  routes: readonly FastifyPluginAsync[];
  /** host names answered besides IP literals and localhost (`http.allowedHosts`) */
  allowedHosts?: readonly string[];
  /** the data dir, named when the disk holding it is full (507) */
  dataDir?: string;
  /** serve HTTPS with this certificate and key (and send HSTS) */
  https?: { cert: Buffer; key: Buffer };
  /** told of every answer, after it is sent (Prometheus: GatewayMetrics.httpRequestAnswered) */
  onAnswered?: (answer: { method: string; routePattern: string | undefined; statusCode: number; durationMs: number }) => void;
  /** the OpenAPI document of every route at /docs/openapi.json (and a page at /docs), behind `guard`; `version` (the
   * package's, read when the app is built) goes in its info */
  docs?: { guard: RouteHook; version: () => Promise<string> };
};

/** A route as it was added: its method and its pattern (`/api/campaigns/:id`). */
export type RegisteredRoute = { method: string; url: string };

declare module 'fastify' {
  interface FastifyInstance {
    /** every route of the app, as added (the OpenAPI test checks the document has each) */
    readonly registeredRoutes: readonly RegisteredRoute[];
  }
}

/** A browser that saw the gateway over HTTPS once never falls back to plain HTTP for it (a year). */
const HSTS = 'max-age=31536000';

/**
 * On every answer, the staff page's and the API's: the page runs only its own files (no inline script, no foreign
 * origin, an injected `<base>` or form target goes nowhere) and is never framed (clickjacking); a file is never sniffed
 * as another type; and no address (a `#token=` page's, an alert's) leaks to another site as a Referer.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Builds the HTTP app (API, live events, staff page). Never listens: server.ts does, tests use inject(). */
export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  // Routes declare TypeBox schemas, which are plain JSON Schema: fastify's Ajv validates them with the options below;
  // the provider only types requests and replies.
  const app = Fastify({
    ...(deps.https ? { https: { cert: deps.https.cert, key: deps.https.key } } : {}),
    // the assertion picks fastify's logger type parameter (without it the app's type carries pino's Logger)
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.log as FastifyBaseLogger,
    // one info line per request would drown the log of a dashboard that polls; errors are logged below
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // live streams never go idle: close them with the server instead of waiting for them
    forceCloseConnections: true,
    ajv: {
      // unknown fields and wrong types are the client's error (400), not something to strip or coerce silently
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const statusCode = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    // the disk refused the write (full: 507 naming the disk and data dir; read-only, I/O error: 503), not a bug
    const refused = statusCode === 500 ? await storageErrorReply(error, deps.dataDir) : undefined;
    // not logged per request: the storage writer logs the failure once, and health carries it
    if (refused) return reply.code(refused.statusCode).send(refused.body);
    if (statusCode === 500) {
      request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
      return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
    }
    // a schema's refusal in words on every route (which field, where, what it takes), never Ajv's `body must NOT …`
    const message = error.validation
      ? validationInWords({
          errors: error.validation,
          dataVar: error.validationContext ?? 'body',
          schema: validatedSchema(request.routeOptions.schema, error.validationContext ?? 'body', request.headers['content-type']),
          ...(request.routeOptions.config.fieldWords ? { fields: request.routeOptions.config.fieldWords } : {}),
        })
      : error.message;
    return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Bad Request', message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  const onAnswered = deps.onAnswered;
  if (onAnswered) {
    // the route's pattern (`/api/campaigns/:id`), not the URL: ids and query strings would make a series per request
    app.addHook('onResponse', async (request, reply) =>
      onAnswered({
        method: request.method,
        routePattern: request.routeOptions.url,
        statusCode: reply.statusCode,
        durationMs: reply.elapsedTime,
      }),
    );
  }
  // who the request's token stands for, set by a route's access guard; declared here so every request has the same shape
  app.decorateRequest('principal', null);
  if (deps.https) app.addHook('onSend', async (_request, reply) => void reply.header('strict-transport-security', HSTS));
  app.addHook('onSend', async (_request, reply) => void reply.headers(SECURITY_HEADERS));
  const allowedHosts = new Set((deps.allowedHosts ?? []).map((name) => name.toLowerCase()));
  app.addHook('onRequest', async (request, reply) => {
    if (hostAllowed(request.headers.host, allowedHosts)) return;
    return reply.code(421).send({
      statusCode: 421,
      error: 'Misdirected Request',
      message: `this gateway does not answer to host "${String(request.headers.host ?? '').slice(0, 100)}" (add it to http.allowedHosts)`,
    });
  });

  const registeredRoutes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', registeredRoutes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registeredRoutes.push({ method, url: route.url });
  });
  // before the routes: it collects each route's schemas as the route is added
  if (deps.docs) await app.register(fastifySwagger, openApiOptions(await deps.docs.version()));
  for (const routes of deps.routes) await app.register(routes);
  if (deps.docs) await app.register(apiDocsRoutes({ guard: deps.docs.guard }));
  await app.register(fastifyStatic, { root: deps.staticDir, prefix: '/', index: 'index.html', wildcard: true, dotfiles: 'deny' });
  return app;
}
