#!/usr/bin/env node
/**
 * The gateway's command line: run it, check a config file, manage devices. The commands live in cli/ and take their
 * process (argv, env, streams, signals) as a parameter; this file only hands them the real one.
 */
import { runCli } from './cli/program.js';
import { EXIT, processIo } from './cli/io.js';

/** How long the process may linger once a command has finished (after a gateway stop: its modules' time limits). */
const LINGER_LIMIT_MS = 5_000;

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    // a second signal means "now": do not wait for what the first one started
    if (code === EXIT.interrupted) process.exit(code);
    process.exitCode = code;
    // the command is done: a part that would not stop in its time limit (logged) must not keep the process alive;
    // unref'd, so a clean stop exits as soon as the event loop is empty, without waiting for it
    setTimeout(() => process.exit(code), LINGER_LIMIT_MS).unref();
  },
  (error: unknown) => {
    process.stderr.write(`smartstore-edge: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = EXIT.failed;
  },
);
