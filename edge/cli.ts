#!/usr/bin/env node
/**
 * The gateway's command line: run it, check a config file, manage devices. The commands live in cli/ and take their
 * process (argv, env, streams, signals) as a parameter; this file only hands them the real one.
 */
import { runCli } from './cli/program.js';
import { EXIT, processIo } from './cli/io.js';

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    // a second signal means "now": do not wait for what the first one started
    if (code === EXIT.interrupted) process.exit(code);
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`smartstore-edge: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = EXIT.failed;
  },
);
