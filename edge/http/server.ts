import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { GatewayModule } from '../core/module.js';
import { readSecretFile } from '../core/secret-file.js';
import { buildHttpApp, type HttpAppDeps, type RegisteredRoute } from './app.js';

export type HttpServerOptions = {
  host: string;
  port: number;
  /** HTTPS: PEM files read at start (the key must not be readable by other users) */
  tls: { certFile: string; keyFile: string } | null;
  /** plain HTTP on a non-loopback address: tokens and the staff page would cross the store network in clear */
  allowPlainHttp: boolean;
};

export class PlainHttpRefusedError extends Error {
  constructor(readonly host: string) {
    super(
      `plain HTTP on ${host} would send API tokens across the network in clear: ` +
        'configure http.tls (certFile, keyFile), listen on 127.0.0.1, or set http.allowPlainHttp: true',
    );
    this.name = 'PlainHttpRefusedError';
  }
}

/** Loopback only: `localhost`, 127.0.0.0/8 and ::1 — an empty or wildcard host listens on every interface. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** The HTTP module: listens with the app from app.ts (HTTPS when configured) and closes it with grace. */
export class HttpServer implements GatewayModule {
  readonly name = 'http';
  private app: FastifyInstance | undefined;

  constructor(
    private readonly options: HttpServerOptions,
    /** routes are read at start: rooms are built, and hand theirs in, before */
    private readonly deps: () => HttpAppDeps,
  ) {}

  async start(): Promise<void> {
    const { host, port, tls, allowPlainHttp } = this.options;
    if (!tls && !allowPlainHttp && !isLoopbackHost(host)) throw new PlainHttpRefusedError(host);
    const https = tls ? { cert: await readFile(tls.certFile), key: await readSecretFile(tls.keyFile) } : undefined;
    const deps = this.deps();
    const app = await buildHttpApp({ ...deps, ...(https ? { https } : {}) });
    try {
      await app.listen({ host, port });
    } catch (error) {
      await app.close();
      throw error;
    }
    this.app = app;
    deps.log.info({ host, port: this.port, https: Boolean(https) }, https ? 'https listening' : 'http listening');
  }

  /** the routes of the running app (none before start) */
  get registeredRoutes(): readonly RegisteredRoute[] {
    return this.app?.registeredRoutes ?? [];
  }

  get port(): number {
    const address = this.app?.server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }
}
