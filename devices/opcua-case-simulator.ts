#!/usr/bin/env node
/**
 * A refrigerated-case controller speaking OPC UA, for the demo and tests: a node-opcua server exposing the case's air
 * temperature (°C, with sensor noise) and its door contact, refreshed every `updateIntervalMs` with a new source
 * timestamp (as a PLC scanning its inputs does, so a StatusValueTimestamp subscription hears from it even when nothing
 * changed). Tests steer it (`setTemperature`, `openDoor`, `closeDoor`) and `restart()` it on the same port, as a case
 * controller power-cycles; `restart({ renumber: true })` comes back with other NodeIds (a firmware update), which only a
 * client that browses by path survives.
 *
 *   node dist/devices/opcua-case-simulator.js [--port 4841] [--temperature 3.5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { UAVariable } from 'node-opcua-address-space';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { MessageSecurityMode, SecurityPolicy } from 'node-opcua-secure-channel';
import { OPCUAServer } from 'node-opcua-server';
import { StatusCodes } from 'node-opcua-status-code';
import { DataType, Variant } from 'node-opcua-variant';

export type CaseSimulatorOptions = {
  /** 0 picks a free port (tests); the port is kept across restarts */
  port?: number;
  host?: string;
  temperatureC?: number;
  /** ± this much uniform noise on every refresh */
  noiseC?: number;
  updateIntervalMs?: number;
  /** folder of the simulator's own certificate; a temp folder by default */
  pkiDir?: string;
  random?: () => number;
};

/** Browse names under the Objects folder, in the simulator's namespace (index 1): what a driver config names. */
export const CASE_BROWSE_PATHS = {
  temperatureC: '/1:RefrigeratedCase/1:Temperature',
  doorOpen: '/1:RefrigeratedCase/1:DoorOpen',
} as const;

export class OpcuaCaseSimulator {
  private server: OPCUAServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private temperatureVar: UAVariable | undefined;
  private doorVar: UAVariable | undefined;
  private portInUse: number;
  private baseTemperatureC: number;
  private door = false;
  private generation = 0;
  /** inputs whose scan has stalled: their variables are no longer refreshed */
  private readonly frozen = new Set<'temperatureC' | 'doorOpen'>();
  private pkiDir: string | undefined;
  /** a temp folder this simulator made (a folder given in the options is the caller's) */
  private madePkiDir: string | undefined;

  constructor(private readonly options: CaseSimulatorOptions = {}) {
    this.portInUse = options.port ?? 0;
    this.baseTemperatureC = options.temperatureC ?? 3.5;
    this.pkiDir = options.pkiDir;
  }

  get port(): number {
    return this.portInUse;
  }

  get endpointUrl(): string {
    return `opc.tcp://${this.options.host ?? '127.0.0.1'}:${this.portInUse}`;
  }

  /** The NodeIds of this generation (they change with `restart({ renumber: true })`). */
  get nodeIds(): { temperatureC: string; doorOpen: string } {
    const suffix = this.generation === 0 ? '' : `/v${this.generation}`;
    return { temperatureC: `ns=1;s=case/temperature${suffix}`, doorOpen: `ns=1;s=case/door-open${suffix}` };
  }

  get isRunning(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    if (!this.pkiDir) this.pkiDir = this.madePkiDir = await mkdtemp(join(tmpdir(), 'smartstore-case-sim-pki-'));
    const serverCertificateManager = new OPCUACertificateManager({ automaticallyAcceptUnknownCertificate: true, rootFolder: this.pkiDir });
    const server = new OPCUAServer({
      port: this.portInUse,
      // the interface it listens on (without it node-opcua listens on every one, and this server has security None)
      host: this.options.host ?? '127.0.0.1',
      hostname: this.options.host ?? '127.0.0.1',
      resourcePath: '',
      serverCertificateManager,
      securityModes: [MessageSecurityMode.None],
      securityPolicies: [SecurityPolicy.None],
      allowAnonymous: true,
      buildInfo: { productName: 'smartstore refrigerated case simulator', manufacturerName: 'smartstore', softwareVersion: '1.0.0' },
      serverInfo: { applicationUri: 'urn:smartstore:case-simulator', productUri: 'urn:smartstore:case-simulator' },
    });
    await server.initialize();
    this.buildAddressSpace(server);
    await server.start();
    this.server = server;
    this.portInUse = server.endpoints[0]?.port ?? this.portInUse;
    this.timer = setInterval(() => this.refresh(), this.options.updateIntervalMs ?? 1_000);
    this.timer.unref();
  }

  /** Stops like a power cut would: sessions are not told, sockets just close. */
  /** Stops the controller for good and removes the certificate folder it made. */
  async stop(): Promise<void> {
    await this.shutdown();
    const made = this.madePkiDir;
    if (!made) return;
    this.pkiDir = this.madePkiDir = undefined;
    await rm(made, { recursive: true, force: true });
  }

  /** Stops serving; the certificate folder stays for a restart on the same port. */
  private async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    this.temperatureVar = undefined;
    this.doorVar = undefined;
    if (!server) return;
    for (const endpoint of server.endpoints) await new Promise<void>((resolve) => endpoint.killClientSockets(() => resolve()));
    await server.shutdown(0);
  }

  /** Power-cycles the controller on the same port; with `renumber`, its variables get new NodeIds. */
  async restart(options: { renumber?: boolean; downMs?: number } = {}): Promise<void> {
    await this.shutdown();
    if (options.renumber) this.generation++;
    if (options.downMs) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    await this.start();
  }

  /** Stalls (or resumes) the scan of one input: its variable keeps its last value and timestamp, as a hung sensor card does. */
  freeze(field: 'temperatureC' | 'doorOpen', frozen = true): void {
    if (frozen) this.frozen.add(field);
    else this.frozen.delete(field);
  }

  setTemperature(temperatureC: number): void {
    this.baseTemperatureC = temperatureC;
    this.refresh();
  }

  openDoor(): void {
    this.door = true;
    this.refresh();
  }

  closeDoor(): void {
    this.door = false;
    this.refresh();
  }

  private buildAddressSpace(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('case simulator: the OPC UA server has no address space');
    const namespace = addressSpace.getOwnNamespace();
    const caseObject = namespace.addObject({
      organizedBy: addressSpace.rootFolder.objects,
      browseName: 'RefrigeratedCase',
      nodeId: `s=case${this.generation ? `/v${this.generation}` : ''}`,
    });
    const ids = this.nodeIds;
    this.temperatureVar = namespace.addVariable({
      componentOf: caseObject,
      browseName: 'Temperature',
      nodeId: ids.temperatureC.replace('ns=1;', ''),
      dataType: 'Double',
      description: 'air temperature in the case, °C',
      minimumSamplingInterval: 0,
    });
    this.doorVar = namespace.addVariable({
      componentOf: caseObject,
      browseName: 'DoorOpen',
      nodeId: ids.doorOpen.replace('ns=1;', ''),
      dataType: 'Boolean',
      description: 'door contact: true while the door is open',
      minimumSamplingInterval: 0,
    });
    this.refresh();
  }

  /** One scan of the controller's inputs: both values written with a new source timestamp. */
  private refresh(): void {
    if (!this.temperatureVar || !this.doorVar) return;
    const noise = ((this.options.random ?? Math.random)() * 2 - 1) * (this.options.noiseC ?? 0.2);
    const now = new Date();
    const temperatureC = Math.round((this.baseTemperatureC + noise) * 100) / 100;
    if (!this.frozen.has('temperatureC'))
      this.temperatureVar.setValueFromSource(new Variant({ dataType: DataType.Double, value: temperatureC }), StatusCodes.Good, now);
    if (!this.frozen.has('doorOpen'))
      this.doorVar.setValueFromSource(new Variant({ dataType: DataType.Boolean, value: this.door }), StatusCodes.Good, now);
  }
}

/**
 * What happens to the demo's case, over and over: every `periodMs` someone restocks it with the door open for 70 s;
 * 20 s in, the air warms to 7.5 °C and only cools back 90 s after the door opened — a door warning, then a cold-chain
 * alert (with the demo's short limits), each resolved by itself. Returns the function that stops it.
 */
export function demoCaseScenario(simulator: OpcuaCaseSimulator, periodMs = 240_000): () => void {
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timer.unref();
    timers.add(timer);
  };
  const restock = () => {
    simulator.openDoor();
    later(20_000, () => simulator.setTemperature(7.5));
    later(70_000, () => simulator.closeDoor());
    later(90_000, () => simulator.setTemperature(3.5));
  };
  later(60_000, restock);
  const every = setInterval(restock, periodMs);
  every.unref();
  return () => {
    clearInterval(every);
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };
}

async function main(): Promise<void> {
  const arg = (name: string) => {
    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 ? process.argv[index + 1] : undefined;
  };
  const simulator = new OpcuaCaseSimulator({ port: Number(arg('port') ?? 4841), temperatureC: Number(arg('temperature') ?? 3.5) });
  await simulator.start();
  process.stdout.write(
    `refrigerated case simulator on ${simulator.endpointUrl} (${CASE_BROWSE_PATHS.temperatureC}, ${CASE_BROWSE_PATHS.doorOpen})\n`,
  );
  const stop = () => void simulator.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
