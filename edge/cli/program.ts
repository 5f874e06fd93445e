import { Command, CommanderError, Option } from 'commander';
import { DEVICE_KINDS, type DeviceKind } from '../device-registry/topics.js';
import { checkConfig } from './check-config.js';
import { ROLES, type Role } from '../http/roles.js';
import type { DatabaseCommandOptions } from './gateway-database.js';
import { addToken, listTokens, revokeToken } from './tokens.js';
import {
  initCa,
  issueDeviceCertificate,
  issueServerCertificate,
  listCertificates,
  revokeCertificate,
  type IssueCommandOptions,
} from './certificates.js';
import {
  addDevice,
  disableDevice,
  enableDevice,
  listDevices,
  removeDevice,
  rotateDeviceSecret,
  type DeviceCommandOptions,
} from './devices.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';
import { exportAudit, verifyAudit } from './audit.js';
import { backupStore, restoreStore } from './backup.js';
import { runGateway } from './run.js';
import {
  cancelCampaign,
  pushPrices,
  rollbackCampaign,
  showCampaign,
  type FollowOptions,
  type PriceCommandOptions,
  type PricePushOptions,
} from './price.js';
import { packageVersion } from './package-version.js';

const CONFIG_HELP = 'YAML config; options it leaves out take their defaults (default: $SMARTSTORE_CONFIG)';

/**
 * Parses `argv` (without node and the script) and runs the command; resolves with its exit code. Commander never
 * exits the process here and writes through `io`, so every command can run inside a test.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  const program = new Command('smartstore-edge')
    .description('smartstore-edge store gateway')
    .version(await packageVersion(), '-V, --version', 'print the version of smartstore-edge')
    .exitOverride()
    .configureOutput({ writeOut: (text) => void io.stdout.write(text), writeErr: (text) => void io.stderr.write(text) })
    .showHelpAfterError();

  program
    .command('run')
    .description('run the gateway')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--reinit', "if gateway.db is lost or another store's: start a new store, moving the old files to <dataDir>/aside-<time>/")
    .action(async (options: { config?: string; reinit?: boolean }) => {
      exitCode = await runGateway(options, io);
    });

  program
    .command('check-config')
    .description('check a config file and the planogram it names; every problem with its path, exit 2 if any')
    .argument('<file>')
    .option('--modules', 'print the order the gateway starts its modules in with this config (it stops them in reverse)')
    .action(async (file: string, options: { modules?: boolean }) => {
      exitCode = await checkConfig(file, io, options);
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

  const token = program.command('token').description('API tokens with roles (works while the gateway runs: it notices within a second)');
  token
    .command('add')
    .description('create a token for a person or system and print it (shown once); its name goes into alerts and the audit trail')
    .argument('<name>', 'who uses it, e.g. "maria" or "hq-sync"')
    .addOption(
      new Option('-r, --role <role>', 'viewer: read; staff: + alerts; manager: + prices; admin: + devices, tokens')
        .choices([...ROLES])
        .makeOptionMandatory(),
    )
    .option('--raw', 'print only the token, for `> maria.token` and --token-file (name and role go to stderr)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (name: string, options: DatabaseCommandOptions & { role: Role; raw?: boolean }) => {
      exitCode = await addToken(name, options, io);
    });
  token
    .command('list')
    .description('name, role, created (one active token a line, tab-separated; never the tokens themselves)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (options: DatabaseCommandOptions) => {
      exitCode = await listTokens(options, io);
    });
  token
    .command('revoke')
    .description('stop accepting a token')
    .argument('<name>', 'token name')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (name: string, options: DatabaseCommandOptions) => {
      exitCode = await revokeToken(name, options, io);
    });

  const ca = program
    .command('ca')
    .description("the store's certificate authority for MQTTS (device and broker certificates; works while the gateway runs)");
  ca.command('init')
    .description('create the store CA in <dataDir>/pki/ (once; the key stays on this machine, mode 600)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (options: DatabaseCommandOptions) => {
      exitCode = await initCa(options, io);
    });
  ca.command('issue')
    .description('a client certificate for a device (CN = device id): <device>.crt, <device>.key and ca.crt into --out')
    .argument('<device>', 'device id')
    .option('-o, --out <dir>', 'folder for the files', '.')
    .option('--days <days>', 'validity in days', '825')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (device: string, options: IssueCommandOptions) => {
      exitCode = await issueDeviceCertificate(device, options, io);
    });
  ca.command('server')
    .description("the broker's (or HTTPS) certificate for the names and addresses devices connect to: server.crt, server.key")
    .argument('<names...>', 'host names and IP addresses, e.g. gateway.store.local 10.20.0.5')
    .option('-o, --out <dir>', 'folder for the files', '.')
    .option('--days <days>', 'validity in days', '825')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (names: string[], options: IssueCommandOptions) => {
      exitCode = await issueServerCertificate(names, options, io);
    });
  ca.command('revoke')
    .description('refuse a certificate from now on (by serial, or every certificate of a device) and close its session')
    .argument('<serial-or-device>', 'certificate serial (hex) or device id')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (what: string, options: DatabaseCommandOptions) => {
      exitCode = await revokeCertificate(what, options, io);
    });
  ca.command('list')
    .description('serial, subject, usage, valid/expired/revoked, expiry (one certificate a line, tab-separated)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (options: DatabaseCommandOptions) => {
      exitCode = await listCertificates(options, io);
    });

  program
    .command('backup')
    .description(
      'copy the store into a new folder: every database of the data dir (consistent while the gateway runs), its marker, keys' +
        ' and certificates',
    )
    .requiredOption('-o, --out <dir>', 'a new (or empty) folder for the backup')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (options: DatabaseCommandOptions & { out: string }) => {
      exitCode = await backupStore(options, io);
    });
  program
    .command('restore')
    .description('put a backup in place (refused while a gateway runs on the data dir); what was there is moved to <dataDir>/aside-<time>/')
    .argument('<backup-dir>', 'a folder made by `backup --out`')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (backupDir: string, options: DatabaseCommandOptions) => {
      exitCode = await restoreStore(backupDir, options, io);
    });

  const audit = program.command('audit').description('the hash-chained audit trail of what people did (alerts, devices, tokens)');
  audit
    .command('verify')
    .description('recompute the chain: prints the count and last hash, or the first broken entry and what differs (exit 1)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (options: DatabaseCommandOptions) => {
      exitCode = await verifyAudit(options, io);
    });
  audit
    .command('export')
    .description('every entry as a JSON line, in seq order, as stored (to stdout, or --out FILE)')
    .option('-o, --out <file>', 'file to write (replaced if it exists)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (options: DatabaseCommandOptions & { out?: string }) => {
      exitCode = await exportAudit(options, io);
    });

  const price = program.command('price').description('prices on the shelf labels, through the running gateway');
  const TOKEN_FILE_HELP =
    'file holding a manager token, e.g. from `token add NAME --role manager --raw` (default: env SMARTSTORE_API_TOKEN)';
  const followOptions = (command: Command) =>
    command
      .option('--poll-ms <ms>', 'how often to ask the gateway for progress', '500')
      .option('--timeout-s <s>', 'stop following after this long (the campaign goes on)', '3600')
      .option('--wait-for-labels', 'follow labels not reachable now (asleep, away) until they take the price: may take hours');
  followOptions(
    price
      .command('push')
      .description(
        'upload a price CSV (sku,priceCents[,effectiveAt]) and follow it until each label is confirmed, failed or waits to be reachable' +
          ' (exit 1 if any failed)',
      )
      .argument('<file.csv>', 'the price file; every bad row is listed with its line (an unknown sku is a bad row)')
      .option('--force', 'send rows that are most likely mistakes but may be meant: a price of 0, an effectiveAt already past')
      .option('--title <title>', "what the campaign is called on the staff page and in price status (default: the file's name)")
      .option('--token-file <file>', TOKEN_FILE_HELP)
      .option('-c, --config <file>', CONFIG_HELP),
  ).action(async (file: string, options: PricePushOptions) => {
    exitCode = await pushPrices(file, options, io);
  });
  price
    .command('status')
    .description('one campaign: state, who and when, labels per state, failed and waiting labels with their reasons')
    .argument('<id>', 'campaign id (price push prints it)')
    .option('--token-file <file>', TOKEN_FILE_HELP)
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (id: string, options: PriceCommandOptions) => {
      exitCode = await showCampaign(id, options, io);
    });
  price
    .command('cancel')
    .description('stop a scheduled or running campaign: labels not sent yet keep their price (confirmed ones keep the new one)')
    .argument('<id>', 'campaign id')
    .option('--token-file <file>', TOKEN_FILE_HELP)
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (id: string, options: PriceCommandOptions) => {
      exitCode = await cancelCampaign(id, options, io);
    });
  followOptions(
    price
      .command('rollback')
      .description("take a campaign's labels back to the prices they showed before it, and follow that (exit 1 if any failed)")
      .argument('<id>', 'campaign id')
      .option('--token-file <file>', TOKEN_FILE_HELP)
      .option('-c, --config <file>', CONFIG_HELP),
  ).action(async (id: string, options: PriceCommandOptions & FollowOptions) => {
    exitCode = await rollbackCampaign(id, options, io);
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // help and version are not failures; usage errors were already written through io
    return error.exitCode === 0 ? EXIT.ok : EXIT.failed;
  }
  return exitCode;
}
