import { Command, CommanderError, Option } from 'commander';
import { DEVICE_KINDS, type DeviceKind } from '../devices/topics.js';
import { checkConfig } from './check-config.js';
import { addDevice, disableDevice, enableDevice, listDevices, removeDevice, rotateDeviceSecret, type DeviceCommandOptions } from './devices.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';
import { runGateway } from './run.js';

const CONFIG_HELP = 'YAML config merged over config/default.yaml (default: $SMARTSTORE_CONFIG)';

/**
 * Parses `argv` (without node and the script) and runs the command; resolves with its exit code. Commander never
 * exits the process here and writes through `io`, so every command can run inside a test.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  const program = new Command('smartstore-edge')
    .description('smartstore-edge store gateway')
    .exitOverride()
    .configureOutput({ writeOut: (text) => void io.stdout.write(text), writeErr: (text) => void io.stderr.write(text) })
    .showHelpAfterError();

  program
    .command('run')
    .description('run the gateway')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (options: { config?: string }) => {
      exitCode = await runGateway(options, io);
    });

  program
    .command('check-config')
    .description('check a config file and the planogram it names; every problem with its path, exit 2 if any')
    .argument('<file>')
    .action(async (file: string) => {
      exitCode = await checkConfig(file, io);
    });

  const device = program.command('device').description('device registry (works while the gateway runs: it notices within a second)');
  device
    .command('add')
    .description('register a device and print its secret (shown once)')
    .argument('<id>', 'device id = MQTT client id and username')
    .addOption(new Option('-k, --kind <kind>', 'device kind').choices([...DEVICE_KINDS]).makeOptionMandatory())
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--init', 'create the gateway database if there is none yet')
    .action(async (id: string, options: DeviceCommandOptions & { kind: DeviceKind; init?: boolean }) => {
      exitCode = await addDevice(id, options, io);
    });
  device
    .command('list')
    .description('id, kind, enabled/disabled, connected, last seen (one device a line, tab-separated)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (options: DeviceCommandOptions) => {
      exitCode = await listDevices(options, io);
    });
  const byId = [
    ['disable', 'refuse the device from now on and close its connection', disableDevice],
    ['enable', 'accept a disabled device again', enableDevice],
    ['rotate-secret', 'give the device a new secret (printed once); the old one stops working', rotateDeviceSecret],
    ['remove', 'forget the device and close its connection', removeDevice],
  ] as const;
  for (const [name, description, command] of byId) {
    device
      .command(name)
      .description(description)
      .argument('<id>', 'device id')
      .option('-c, --config <file>', CONFIG_HELP)
      .action(async (id: string, options: DeviceCommandOptions) => {
        exitCode = await command(id, options, io);
      });
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // help and version are not failures; usage errors were already written through io
    return error.exitCode === 0 ? EXIT.ok : EXIT.failed;
  }
  return exitCode;
}
