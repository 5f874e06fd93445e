/**
 * `smartstore-edge run` as a child process, for tests that kill the gateway the way an OS or a person does (SIGKILL):
 * nothing in the test's own process can stand in for a process that dies between two instructions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { eventually } from './test-gateway.js';

/** the last characters of the child's output kept for a failure message (the child's logs are bounded here) */
const OUTPUT_TAIL_CHARS = 8_000;

export type GatewayChildOptions = {
  /** the runnable CLI, e.g. builtGatewayCli() (tests/helpers/built-gateway.ts) */
  cliFile: string;
  configFile: string;
  /** where its HTTP API answers, e.g. http://127.0.0.1:18080 */
  httpUrl: string;
  /** an admin token the readiness probe uses */
  apiToken: string;
  startTimeoutMs?: number;
};

/** One gateway process at a time on one data dir: start, SIGKILL, start again. */
export class GatewayChild {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(private readonly options: GatewayChildOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** What the child wrote last (stdout and stderr), for failure messages. */
  outputTail(): string {
    return this.output;
  }

  /** Starts `run`; resolves once its HTTP API answers an authenticated request (every module has started by then). */
  async start(): Promise<void> {
    if (this.running()) throw new Error('the gateway child is running already');
    this.output = '';
    const child = spawn(process.execPath, [this.options.cliFile, 'run', '--config', this.options.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await eventually(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`gateway exited (${child.exitCode ?? child.signalCode}): ${this.output}`);
        const answer = await fetch(`${this.options.httpUrl}/api/whoami`, {
          headers: { authorization: `Bearer ${this.options.apiToken}` },
          signal: AbortSignal.timeout(1_000),
        }).catch(() => undefined);
        return answer?.ok ? true : undefined;
      },
      this.options.startTimeoutMs ?? 30_000,
      'the gateway child to answer HTTP',
    );
  }

  /** SIGKILL: no handler runs, nothing is flushed; resolves once the process is gone. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM (an orderly stop), SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      await this.signal('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }

  private running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}
