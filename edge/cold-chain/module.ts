import { Subject, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { AlertService } from '../alerts/alert-service.js';
import { caseAlertKey } from '../alerts/alerts.js';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule } from '../core/module.js';
import { CASE_DOOR_CLOSED, COLD_CHAIN_RECOVERED, caseDoorAlert, coldChainAlert } from './cold-chain-alerts.js';
import { coldChainSignals, type CaseReading, type ColdChainPolicy, type ColdChainSignal } from './cold-chain.js';
import type { ColdChainCases } from './cold-chain-config.js';

declare module '../core/module.js' {
  interface GatewayServices {
    coldChain: ColdChainModule;
  }
}

export type ColdChainModuleDeps = {
  bus: GatewayBus;
  /** the alert service (started before this module) */
  alerts: () => AlertService;
  /** limits per case id (`coldChainCases(config.coldChain, config.opcua.devices)`); a case without limits is not watched */
  cases: ColdChainCases;
  scheduler: SchedulerLike;
  log: Logger;
  onHandlerError: (handler: string, error: unknown) => void;
};

/**
 * The cold chain: refrigerated cases' telemetry (`device.message:case/telemetry`, from MQTT or OPC UA cases alike)
 * through the cold-chain operators, turned into staff alerts — `cold-chain` (critical) while a case has been too warm
 * too long, resolved when it has been back in range long enough; `case-door-open` (warning), resolved when the door
 * closes. One active alert per case and kind (the alert service's keys).
 */
export class ColdChainModule implements GatewayModule {
  readonly name = 'cold-chain';
  private readonly readings = new Subject<CaseReading>();
  private subscription: Subscription | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: ColdChainModuleDeps) {}

  get watchedCases(): number {
    return this.policies.size;
  }

  private get policies(): ReadonlyMap<string, ColdChainPolicy> {
    return this.deps.cases.policies;
  }

  async start(): Promise<void> {
    this.warnAboutConfig();
    if (this.policies.size === 0) return;
    const alerts = this.deps.alerts();
    const open = (caseId: string) => ({
      excursion: alerts.activeByKey(caseAlertKey('cold-chain', caseId)) !== undefined,
      door: alerts.activeByKey(caseAlertKey('case-door-open', caseId)) !== undefined,
    });
    this.subscription = this.readings.pipe(coldChainSignals((caseId) => this.policies.get(caseId), this.deps.scheduler, open)).subscribe({
      next: (signal) => {
        try {
          this.apply(alerts, signal);
        } catch (error) {
          this.deps.onHandlerError('cold-chain-alerts', error);
        }
      },
      error: (error: unknown) => this.deps.onHandlerError('cold-chain', error),
    });
    this.unsubscribe = this.deps.bus.on('device.message:case/telemetry', 'cold-chain', (message) =>
      this.readings.next({ caseId: message.deviceId, telemetry: message.payload }),
    );
    this.deps.log.info({ cases: this.policies.size }, 'cold chain watching cases');
  }

  /** Said once at start, so store IT sees it in the log of the run that uses the config. */
  private warnAboutConfig(): void {
    const { fromDeprecatedOpcuaKeys, ignoredDuplicates } = this.deps.cases;
    if (fromDeprecatedOpcuaKeys.length > 0) {
      const message = 'cold-chain limits under opcua.devices[].coldChain are deprecated: move them to coldChain.cases';
      this.deps.log.warn({ cases: fromDeprecatedOpcuaKeys }, message);
    }
    if (ignoredDuplicates.length > 0) {
      const message = 'cases with more than one set of cold-chain limits: the first in coldChain.cases is used';
      this.deps.log.warn({ cases: ignoredDuplicates }, message);
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private apply(alerts: AlertService, signal: ColdChainSignal): void {
    const policy = this.policies.get(signal.caseId);
    if (!policy) return;
    switch (signal.type) {
      case 'excursion':
        alerts.raise(coldChainAlert(signal.caseId, signal.temperatureC, policy));
        return;
      case 'recovered':
        alerts.resolveByKey(caseAlertKey('cold-chain', signal.caseId), 'system', COLD_CHAIN_RECOVERED);
        return;
      case 'door-open-too-long':
        alerts.raise(caseDoorAlert(signal.caseId, policy));
        return;
      case 'door-closed':
        alerts.resolveByKey(caseAlertKey('case-door-open', signal.caseId), 'system', CASE_DOOR_CLOSED);
        return;
    }
  }
}
