/**
 * `ca …`: the store's certificate authority for MQTTS. `ca init` makes it (once) in `<dataDir>/pki/`; `ca issue <device>`
 * gives a device a certificate to log in with instead of its secret; `ca server <name…>` the broker's own certificate;
 * `ca revoke` refuses a certificate from the next connect on and closes its live session (within a second).
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { caFiles, loadCertificateAuthority, NoCertificateAuthorityError, saveCertificateAuthority } from '../pki/ca-files.js';
import { createCertificateAuthority, issueCertificate } from '../pki/certificate-authority.js';
import { CertificateStore } from '../pki/certificate-store.js';
import { isValidDeviceId } from '../device-registry/topics.js';
import { afterChange, withGatewayDatabase, type DatabaseCommandOptions } from './gateway-database.js';
import { EXIT, type CliIo, type ExitCode } from './io.js';

export type IssueCommandOptions = DatabaseCommandOptions & { out?: string; days?: string };

export function initCa(options: DatabaseCommandOptions, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase({ ...options, init: true }, io, async (session) => {
    const dataDir = session.resolved.config.dataDir;
    const ca = await createCertificateAuthority(session.resolved.config.storeId, Date.now());
    try {
      await saveCertificateAuthority(dataDir, ca);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      io.stderr.write(`a store CA exists in ${caFiles(dataDir).dir}: it is kept (every certificate it issued depends on it)\n`);
      return EXIT.failed;
    }
    const { cert, key } = caFiles(dataDir);
    io.stdout.write(`store CA created: ${cert} (give it to devices to trust the broker), key ${key} (mode 600; back it up)\n`);
    return EXIT.ok;
  });
}

/** Writes `<name>.crt`, `<name>.key` (600) and `ca.crt` into the folder, and says where. */
async function writeIssued(
  io: CliIo,
  folder: string,
  name: string,
  files: { certPem: string; keyPem: string; caPem: string },
): Promise<void> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const keyFile = join(folder, `${name}.key`);
  await writeFile(keyFile, files.keyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(join(folder, `${name}.crt`), files.certPem);
  await writeFile(join(folder, 'ca.crt'), files.caPem);
  io.stdout.write(`${join(folder, `${name}.crt`)}\n${keyFile}\n${join(folder, 'ca.crt')}\n`);
}

function validityDays(days: string | undefined, fallback: number, io: CliIo): number | undefined {
  const value = days === undefined ? fallback : Number(days);
  if (Number.isInteger(value) && value >= 1 && value <= 3_650) return value;
  io.stderr.write(`--days ${days}: a whole number of days from 1 to 3650\n`);
  return undefined;
}

export function issueDeviceCertificate(deviceId: string, options: IssueCommandOptions, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    if (!isValidDeviceId(deviceId)) {
      io.stderr.write(`device id "${deviceId.slice(0, 80)}" does not match the device id pattern\n`);
      return EXIT.failed;
    }
    const days = validityDays(options.days, 825, io);
    if (days === undefined) return EXIT.failed;
    const ca = await loadCaOrReport(session.resolved.config.dataDir, io);
    if (!ca) return EXIT.failed;
    const issued = await issueCertificate({ ca, commonName: deviceId, usage: 'client', now: Date.now(), validityDays: days });
    await new CertificateStore(session.db).record(issued, 'client', Date.now());
    await writeIssued(io, resolve(io.cwd, options.out ?? '.'), deviceId, { ...issued, caPem: ca.certPem });
    const validUntil = new Date(issued.notAfter).toISOString();
    io.stderr.write(`serial ${issued.serial}, valid until ${validUntil}; the device logs in over MQTTS with client id ${deviceId}\n`);
    return EXIT.ok;
  });
}

export function issueServerCertificate(names: string[], options: IssueCommandOptions, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    const days = validityDays(options.days, 825, io);
    if (days === undefined) return EXIT.failed;
    const ca = await loadCaOrReport(session.resolved.config.dataDir, io);
    if (!ca) return EXIT.failed;
    const issued = await issueCertificate({
      ca,
      commonName: names[0] as string,
      altNames: names,
      usage: 'server',
      now: Date.now(),
      validityDays: days,
    });
    await new CertificateStore(session.db).record(issued, 'server', Date.now());
    await writeIssued(io, resolve(io.cwd, options.out ?? '.'), 'server', { ...issued, caPem: ca.certPem });
    io.stderr.write(`serial ${issued.serial} for ${names.join(', ')}, valid until ${new Date(issued.notAfter).toISOString()}\n`);
    return EXIT.ok;
  });
}

export function revokeCertificate(serialOrDevice: string, options: DatabaseCommandOptions, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    const revoked = await new CertificateStore(session.db).revoke(serialOrDevice, Date.now());
    if (revoked.length === 0) {
      io.stderr.write(`no valid certificate with serial or device ${serialOrDevice}\n`);
      return EXIT.failed;
    }
    for (const serial of revoked) io.stdout.write(`revoked ${serial}\n`);
    afterChange(io, session, 'refuses it and closes its session');
    return EXIT.ok;
  });
}

export function listCertificates(options: DatabaseCommandOptions, io: CliIo): Promise<ExitCode> {
  return withGatewayDatabase(options, io, async (session) => {
    for (const c of await new CertificateStore(session.db).list()) {
      const state = c.revokedAt !== null ? 'revoked' : c.notAfter < Date.now() ? 'expired' : 'valid';
      io.stdout.write(`${c.serial}\t${c.subject.replace(/^CN=/, '')}\t${c.usage}\t${state}\t${new Date(c.notAfter).toISOString()}\n`);
    }
    return EXIT.ok;
  });
}

async function loadCaOrReport(dataDir: string, io: CliIo) {
  try {
    return await loadCertificateAuthority(dataDir);
  } catch (error) {
    if (!(error instanceof NoCertificateAuthorityError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return undefined;
  }
}
