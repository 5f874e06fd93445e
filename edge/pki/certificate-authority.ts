/**
 * The store's certificate authority for device and server certificates (ECDSA P-256, SHA-256), in JS with
 * @peculiar/x509 on Node's WebCrypto — no openssl binary needed on the store machine. Time and serials are parameters.
 */
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata polyfill loaded first
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

let providerSet = false;
function crypto(): webcrypto.Crypto {
  if (!providerSet) {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    providerSet = true;
  }
  return webcrypto;
}

export type PemPair = { certPem: string; keyPem: string };
export type IssuedCertificate = PemPair & { serial: string; subject: string; notBefore: number; notAfter: number };

function pem(tag: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${tag}-----\n${base64}${base64.endsWith('\n') ? '' : '\n'}-----END ${tag}-----\n`;
}

/** 16 random bytes, first bit clear (a positive DER integer), as lower-case hex: what Node reports as `serialNumber`. */
export function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x10;
  return bytes.toString('hex');
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return crypto().subtle.importKey('pkcs8', der, ALG, false, ['sign']) as Promise<CryptoKey>;
}

export async function createCertificateAuthority(storeId: string, now: number, validityDays = 3_650): Promise<IssuedCertificate> {
  const keys = (await crypto().subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = newSerial();
  const subject = `CN=smartstore-edge store CA ${storeId}`;
  const notBefore = now - 60_000;
  const notAfter = now + validityDays * DAY_MS;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: subject,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return {
    certPem: certificate.toString('pem') + '\n',
    keyPem: pem('PRIVATE KEY', await crypto().subtle.exportKey('pkcs8', keys.privateKey)),
    serial,
    subject,
    notBefore,
    notAfter,
  };
}

export type IssueOptions = {
  ca: PemPair;
  /** device id (client certificate) or host name (server certificate): the certificate's CN */
  commonName: string;
  usage: 'client' | 'server';
  /** server certificates: the names and addresses clients connect to */
  altNames?: readonly string[];
  now: number;
  validityDays: number;
};

export async function issueCertificate(options: IssueOptions): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(options.ca.certPem);
  const signingKey = await importKey(options.ca.keyPem);
  const keys = (await crypto().subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = newSerial();
  const subject = `CN=${options.commonName.replace(/[,+="<>#;\\]/g, '')}`;
  const notBefore = options.now - 60_000;
  const notAfter = options.now + options.validityDays * DAY_MS;
  const altNames = (options.altNames ?? []).map((name) =>
    /^[\d.]+$|:/.test(name) ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name },
  );
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject,
    issuer: caCert.subject,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([
        options.usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth,
      ]),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
    ],
  });
  return {
    certPem: certificate.toString('pem') + '\n',
    keyPem: pem('PRIVATE KEY', await crypto().subtle.exportKey('pkcs8', keys.privateKey)),
    serial,
    subject,
    notBefore,
    notAfter,
  };
}
