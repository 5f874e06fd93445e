/**
 * The OPC UA server of the gateway: node-opcua's OPCUAServer with our security choices — SignAndEncrypt with
 * Basic256Sha256 and Aes256_Sha256_RsaPss (None only when the config allows it), users from the config, anonymous
 * only when allowed, and a PKI in the data dir:
 *
 *   <dataDir>/opcua-pki/own/           the server's key and self-signed certificate, created on first start
 *   <dataDir>/opcua-pki/rejected/      certificates of clients that tried to connect and are not trusted
 *   <dataDir>/opcua-pki/trusted/certs/ clients store IT trusts: move a certificate here from rejected/ (picked up live)
 *   <dataDir>/opcua-pki-users/         X.509 user certificates (not used for login today; kept out of $HOME)
 *
 * The certificate manager (node-opcua-pki 6.x) makes keys and certificates with Node's crypto and node-opcua-crypto:
 * it does not run an openssl binary and downloads nothing (its openssl code serves only its CA tool, not used here).
 *
 * This module imports node-opcua (≈2 s): only opcua/module.ts loads it, with `import()`, when the server is enabled.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AddressSpace } from 'node-opcua-address-space';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { setErrorLogger, setWarningLogger } from 'node-opcua-debug';
import { nodesets } from 'node-opcua-nodesets';
import { MessageSecurityMode, SecurityPolicy } from 'node-opcua-secure-channel';
import { OPCUAServer, RegisterServerMethod } from 'node-opcua-server';
import type { OpcuaServerConfig } from './opcua-server-config.js';
import type { OpcuaUserDirectory } from './opcua-users.js';

let nodeOpcuaLog: Logger | undefined;

/**
 * node-opcua writes its warnings and errors with console.log; route them into our structured log instead (component
 * `opcua`, for the client driver too: the routing is per process). Known-harmless lines go to debug:
 *  - `[NODE-OPCUA-W27]` (once per process on Node 20, two lines): RSA PKCS#1 v1.5 decryption and CVE-2023-46809 only
 *    concern the Basic128Rsa15 policy, which we never offer;
 *  - loading the Scales nodeset: "target namespace = …Scales/V2/" and "AbstractWeightType already registered" (the
 *    nodeset declares that data type's encoding twice; the second is ignored);
 *  - "Creating default certificate ... please wait": the OPC UA device client makes its own certificate on a first
 *    start, as it should; at warn it was a start-up warning of nothing wrong (issue 23).
 */
export function routeNodeOpcuaLogs(log: Logger): void {
  nodeOpcuaLog = log;
}

const HARMLESS = [
  /NODE-OPCUA-W27/,
  /CVE-2023-46809/,
  /^target namespace = `http:\/\/opcfoundation\.org\/UA\/Scales\/V2\/`/,
  /AbstractWeightType already registered/,
  /^Creating default certificate \.\.\. please wait$/,
];
type LogContext = { filename?: string; callerline?: number };
const lineOf = (args: unknown[]) =>
  args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a))).join(' ');
const whereOf = (data: unknown) => {
  const context = (data ?? {}) as LogContext;
  return `${context.filename ?? '?'}:${context.callerline ?? '?'}`;
};
setWarningLogger((data?: unknown, ...args: unknown[]) => {
  const line = lineOf(args);
  if (HARMLESS.some((pattern) => pattern.test(line))) nodeOpcuaLog?.debug({ where: whereOf(data) }, line);
  else if (nodeOpcuaLog) nodeOpcuaLog.warn({ where: whereOf(data) }, line);
  else console.warn(`node-opcua (${whereOf(data)}): ${line}`);
});
setErrorLogger((data?: unknown, ...args: unknown[]) => {
  if (nodeOpcuaLog) nodeOpcuaLog.error({ where: whereOf(data) }, lineOf(args));
  else console.error(`node-opcua (${whereOf(data)}): ${lineOf(args)}`);
});

export type OpcuaServerDeps = {
  config: OpcuaServerConfig;
  dataDir: string;
  storeId: string;
  users: OpcuaUserDirectory;
  log: Logger;
  /** builds the address space once the nodesets are loaded and before clients can connect */
  build: (addressSpace: AddressSpace) => void;
};

/** The nodesets to load: the standard one, plus OPC 40200 Scales V2 and what it depends on when switched on. */
export function nodesetFiles(scales: boolean): string[] {
  return scales ? [nodesets.standard, nodesets.di, nodesets.ia, nodesets.machinery, nodesets.packML, nodesets.scales] : [nodesets.standard];
}

/** The OPC UA port is taken; names the option to change (the CLI reports the message as it is). */
export class OpcuaPortInUseError extends Error {
  constructor(
    readonly port: number,
    options: { cause: unknown },
  ) {
    super(`port ${port} is already in use — stop the other process or choose another port (opcua.server.port)`, options);
    this.name = 'OpcuaPortInUseError';
  }
}

export class OpcuaServer {
  private server: OPCUAServer | undefined;

  constructor(private readonly deps: OpcuaServerDeps) {}

  /** The port it listens on (the real one when configured as 0), once started. */
  get port(): number | undefined {
    return this.server?.endpoints[0]?.port;
  }

  get endpointUrl(): string | undefined {
    return this.server?.getEndpointUrl();
  }

  get sessions(): number {
    return this.server?.currentSessionCount ?? 0;
  }

  async start(): Promise<void> {
    routeNodeOpcuaLogs(this.deps.log);
    const { config, dataDir, storeId, users } = this.deps;
    const serverCertificateManager = new OPCUACertificateManager({
      rootFolder: join(dataDir, 'opcua-pki'),
      automaticallyAcceptUnknownCertificate: false,
    });
    const userCertificateManager = new OPCUACertificateManager({
      rootFolder: join(dataDir, 'opcua-pki-users'),
      automaticallyAcceptUnknownCertificate: false,
    });
    const securityModes = [MessageSecurityMode.SignAndEncrypt, ...(config.allowUnsecured ? [MessageSecurityMode.None] : [])];
    const securityPolicies = [
      SecurityPolicy.Basic256Sha256,
      SecurityPolicy.Aes256_Sha256_RsaPss,
      ...(config.allowUnsecured ? [SecurityPolicy.None] : []),
    ];
    const server = new OPCUAServer({
      port: config.port,
      host: config.host,
      ...(config.hostname ? { hostname: config.hostname, alternateHostname: [config.hostname] } : {}),
      securityModes,
      securityPolicies,
      allowAnonymous: config.allowAnonymous,
      userManager: {
        // node-opcua calls it back-style; a failure to check is a refusal
        isValidUserAsync: (username, password, callback) => {
          users.verify(username, password).then(
            (ok) => callback(null, ok),
            () => callback(null, false),
          );
        },
      },
      serverCertificateManager,
      userCertificateManager,
      nodesets: nodesetFiles(config.scalesNodeset),
      // node-opcua-nodesets ships a precompiled image beside each XML (replayed instead of parsing the XML); the files
      // come with the package and are never edited, so the image's recorded size is check enough (no SHA-256 of the XML)
      nodesetLoaderOptions: { trustSiblingImages: true },
      serverInfo: {
        applicationUri: `urn:smartstore-edge:${storeId}`,
        productUri: 'urn:smartstore-edge',
        applicationName: { text: `smartstore-edge ${storeId}`, locale: 'en' },
      },
      buildInfo: { productName: 'smartstore-edge', manufacturerName: 'smartstore' },
      serverCapabilities: { maxSessions: config.maxSessions },
      // no registration with a discovery server: a store gateway is found by its address
      registerServerMethod: RegisterServerMethod.HIDDEN,
      disableDiscovery: false,
    });
    try {
      await server.initialize();
      this.deps.build(server.engine.addressSpace as AddressSpace);
      await server.start();
    } catch (error) {
      await server.shutdown(0).catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new OpcuaPortInUseError(config.port, { cause: error });
      throw error;
    }
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // no grace period: sessions are told the server is shutting down and closed at once
    await server?.shutdown(0);
  }
}
