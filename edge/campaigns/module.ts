/**
 * The campaigns room's module: the campaign service (the pure state machine's side effects, persisted) and what this
 * room does for HQ's commands. The campaign service resumes what was under way at start; HQ's flash-stop timers end at
 * stop, before the service writes what it still holds.
 */
import type { Logger } from 'pino';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { AccessGuard } from '../http/auth.js';
import type { LabelFlashing } from '../labels/label-flashes.js';
import type { SqliteDatabase } from '../storage/database.js';
import { CampaignService, type CampaignServiceDeps } from './campaign-service.js';
import { CampaignStore } from './campaign-store.js';
import { HqLabelCommands } from './hq-label-commands.js';

declare module '../core/module.js' {
  interface GatewayServices {
    campaigns: CampaignsModule;
  }
}

export type CampaignsModuleDeps = Omit<CampaignServiceDeps, 'store'> & {
  db: SqliteDatabase;
  /** the labels' flashes, for HQ's `label-flash` (HQ's stop does not end a find-my-facing flash) */
  flashes: LabelFlashing;
  /** HQ's commands log as their own component */
  hqCommandsLog: Logger;
};

export class CampaignsModule implements GatewayModule {
  readonly name = 'campaigns';
  readonly service: CampaignService;
  /** HQ's `price-campaign` and `label-flash`: the composition root registers them as the relay's handlers */
  readonly hqCommands: HqLabelCommands;

  constructor(deps: CampaignsModuleDeps) {
    const { db, flashes, hqCommandsLog, ...serviceDeps } = deps;
    this.service = new CampaignService({ ...serviceDeps, store: new CampaignStore(db) });
    this.hqCommands = new HqLabelCommands({ campaigns: this.service, flashes, log: hqCommandsLog });
  }

  async start(): Promise<void> {
    await this.service.start();
  }

  async stop(): Promise<void> {
    // no flash-stop timer outlives the service and its drivers
    await this.hqCommands.stop();
    await this.service.stop();
  }

  health(): HealthCheck {
    return this.service.health();
  }

  routes(guard: AccessGuard) {
    return this.service.routes(guard);
  }
}
