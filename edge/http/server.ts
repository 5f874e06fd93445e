import type { FastifyInstance } from 'fastify';
import type { GatewayModule } from '../core/module.js';
import { buildHttpApp, type HttpAppDeps } from './app.js';

/** The HTTP module: listens with the app from app.ts and closes it with grace. */
export class HttpServer implements GatewayModule {
  readonly name = 'http';
  private app: FastifyInstance | undefined;

  constructor(
    private readonly options: { host: string; port: number },
    /** routes are read at start: rooms are built, and hand theirs in, before */
    private readonly deps: () => HttpAppDeps,
  ) {}

  async start(): Promise<void> {
    const deps = this.deps();
    const app = await buildHttpApp(deps);
    try {
      await app.listen({ host: this.options.host, port: this.options.port });
    } catch (error) {
      await app.close();
      throw error;
    }
    this.app = app;
    deps.log.info({ host: this.options.host, port: this.port }, 'http listening');
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
