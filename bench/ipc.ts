/**
 * Request/response over the IPC channel of `child_process.fork`, and the bookkeeping that makes sure every child
 * process, spawned broker and temp dir of a benchmark run is gone when the run ends — also on Ctrl-C or a crash.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Request = { id: number; method: string; params?: unknown };
type Response = { id: number; result?: unknown; error?: string };

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let cleanupInstalled = false;

/** Kills what is still running and removes temp dirs; safe to call more than once, synchronous (runs on 'exit'). */
export function cleanupNow(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  liveChildren.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      cleanupNow();
      process.exit(130);
    });
  }
}

/** A process (forked or spawned) to kill when the benchmark ends. */
export function track(child: ChildProcess): ChildProcess {
  installCleanup();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

export function trackTempDir(dir: string): string {
  installCleanup();
  tempDirs.add(dir);
  return dir;
}

export function untrackTempDir(dir: string): void {
  tempDirs.delete(dir);
}

/** A fresh temp dir, removed by `removeTempDir` or, at the latest, when the process exits. */
export async function makeTempDir(prefix: string): Promise<string> {
  return trackTempDir(await mkdtemp(join(tmpdir(), `smartstore-bench-${prefix}-`)));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  untrackTempDir(dir);
}

/** The compiled script next to this module (dist/bench/<name>.js). */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/** A forked benchmark process that answers requests. */
export class ChildHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly exited: Promise<number | null>;

  private constructor(readonly process: ChildProcess) {
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
    process.on('message', (message: Response) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    process.once('exit', (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`child exited (${signal ?? code}) before answering`));
      this.pending.clear();
    });
  }

  static fork(script: string, options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): ChildHandle {
    const child = fork(benchScript(script), [], {
      execArgv: options.execArgv ?? [],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ChildHandle(track(child));
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  request<T>(method: string, params?: unknown, timeoutMs = 600_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.process.send({ id, method, params } satisfies Request);
    });
  }

  /** Asks the child to stop (`stop` request), then kills it if it has not exited within `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const killer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    try {
      await this.request('stop', undefined, graceMs).catch(() => undefined);
      await this.exited;
    } finally {
      clearTimeout(killer);
    }
  }
}

export type Handlers = Record<string, (params: never) => unknown>;

/** In a child: answers requests with `handlers`; `stop` runs `onStop` and exits. Exits when the parent goes away. */
export function serveRequests(handlers: Handlers, onStop: () => Promise<void> | void): void {
  const send = (response: Response) => process.send?.(response);
  process.on('message', async (message: Request) => {
    if (message.method === 'stop') {
      try {
        await onStop();
      } finally {
        send({ id: message.id, result: null });
        process.disconnect?.();
        // let the reply flush, then leave even if a handle is still open
        setTimeout(() => process.exit(0), 50).unref();
      }
      return;
    }
    const handler = handlers[message.method];
    if (!handler) return send({ id: message.id, error: `unknown method ${message.method}` });
    try {
      send({ id: message.id, result: (await handler(message.params as never)) ?? null });
    } catch (error) {
      send({ id: message.id, error: (error as Error).stack ?? String(error) });
    }
  });
  // the orchestrator died or closed the channel: nothing is left to serve
  process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
}
