import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './http-deps.js';
import { buildHttpApp } from './app.js';

/** Listens with the app from app.ts and closes it with grace. */
export class HttpServer {
  private app: FastifyInstance | undefined;

  constructor(
    private readonly options: { host: string; port: number },
    private readonly deps: HttpDeps,
  ) {}

  async start(): Promise<void> {
    const app = await buildHttpApp(this.deps);
    await app.listen({ host: this.options.host, port: this.options.port });
    this.app = app;
    this.deps.log.info({ host: this.options.host, port: this.port }, 'http listening');
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
