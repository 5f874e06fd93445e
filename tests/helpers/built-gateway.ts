/**
 * The runnable gateway that tests/global-setup.ts built for this run (edge/ and devices/ transpiled to ESM in a temp
 * dir, with node_modules, config and dashboards linked beside them). For tests that need a real child process:
 *   spawn(process.execPath, [builtGatewayCli(), 'run', '--config', file])
 * or a child script of their own that imports built modules: `import { X } from '${builtModuleUrl('edge/x.ts')}'`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Root of the transpiled tree (see tests/global-setup.ts). */
    builtGatewayDir: string;
  }
}

/** Root of the built tree: `<dir>/edge/cli.js`, `<dir>/devices/…`, `<dir>/package.json`, `<dir>/node_modules` … */
export function builtGatewayDir(): string {
  const dir = inject('builtGatewayDir');
  if (!dir || !existsSync(join(dir, 'edge/cli.js'))) {
    throw new Error(`no built gateway (got ${String(dir)}): run through vitest.config.ts, whose globalSetup builds it`);
  }
  return dir;
}

/** Absolute path of the built CLI (`smartstore-edge`): run it with `node <path> run --config <file>`. */
export function builtGatewayCli(): string {
  return join(builtGatewayDir(), 'edge/cli.js');
}

/** file:// URL of the built form of a source module, for `import` in a child script: `edge/relay/outbox.ts` → …/outbox.js. */
export function builtModuleUrl(sourcePath: string): string {
  return pathToFileURL(join(builtGatewayDir(), sourcePath.replace(/\.ts$/, '.js'))).href;
}
