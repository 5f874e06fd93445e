/** What a CLI command may touch of its process: passed in, so every command runs in a test as it runs for real. */

/** Exit codes store IT can script against. */
export const EXIT = { ok: 0, failed: 1, badConfig: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type TextOut = { write(text: string): unknown; isTTY?: boolean };

export type CliIo = {
  env: NodeJS.ProcessEnv;
  /** relative paths (--config, dataDir, the planogram file) are resolved against it */
  cwd: string;
  stdout: TextOut;
  stderr: TextOut;
  /** calls `handler` on SIGINT and SIGTERM until the returned function is called */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
};

export function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    onSignal(handler) {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

/** A list of problems as people read them — one per line, each with its path — the same for config and planogram. */
export function problemReport(what: string, source: string, problems: readonly string[]): string {
  return `invalid ${what} (${source}):\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n`;
}
