/**
 * A simulated OpenEPaperLink access point: the HTTP + websocket subset the gateway uses, behaving like the firmware
 * (`web.cpp`, `tag_db.cpp`, `newproto.cpp`). `POST /jsonupload` only stores the drawing commands; the AP renders them a
 * moment later (skipping an image identical to the one shown), queues the image, and the tag fetches it at its next
 * check-in — only then do `updatecount` and `updatelast` move and `pending` drop to 0. Every change is pushed on `/ws`
 * as `{"tags":[record]}`, with `{"sys":{…}}` heartbeats.
 *
 * Faults, random or on demand: 409 "come back later" (busy), "xfer timeout" (the tag's whole queue dropped), the
 * nightly reboot (`{"errMsg":"REBOOTING"}`, 409 while stopping, connections refused while down, pending renders
 * redone after boot), and the AP's own 400 for a mac it does not know.
 *
 * Firmware behaviour a driver must not assume away (file:line refer to OpenEPaperLink commit cdd1cfa9, Aug 2026):
 * - Its own clock: `sys.currtime` is the AP's `time(&now)` (web.cpp:113-116), an hour off or near 1970 without NTP
 *   until `POST /set_time` (web.cpp:692-710; an epoch ≤ 1600000000 is refused), and lost again by a reboot.
 * - `stopsleep` (default 1, tag_db.cpp:330): while any websocket client is connected the AP sends no idle request
 *   (contentmanager.cpp:90) and every data-avail carries nextCheckin 0 (newproto.cpp:166), so tags stay awake and check
 *   in at their short interval; with no client they are told to sleep up to `maxsleep` minutes (default 10).
 * - An image identical to the one shown is skipped: `wsLog("new image is the same as current image…")` then the tag's
 *   record (newproto.cpp:211-213); `updatecount` does not move. `tag_cmd refresh` zeroes the md5 and redraws
 *   (newproto.cpp:694-700), which forces the transfer.
 * - An LED command's payload becomes the tag's md5 when its transfer completes (newproto.cpp:778 sets dataVer, 475-478
 *   copies it and counts the transfer), so after a flash the same image is no longer "the same".
 * - RUNSTATUS 0 stop, 1 pause, 2 run, 3 init (include/tag_db.h:10-13); `/jsonupload` answers 409 unless run
 *   (web.cpp:1024); after a panic reset content generation pauses 30 s (main.cpp:183-187, 43-47).
 * - `/sysinfo` reports `buildversion` (ota.cpp:38-48); `updatecount`/`updatelast` exist in records since 2.60.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { randomBetween, randomInt, type RandomSource } from './random.js';
import { TimerGroup } from './timer-group.js';

export type OeplApSimulatorOptions = {
  tagCount: number;
  logger: Logger;
  random: RandomSource;
  clock?: () => number;
  host?: string;
  /** 0 = any free port; a reboot listens again on the port it had */
  port?: number;
  /** each tag checks in every interval ± 20 % (real tags: about a minute) */
  checkInIntervalMs?: number;
  /** upload → rendered image queued (the AP's content generation) */
  renderDelayMs?: number;
  sysIntervalMs?: number;
  /** after (re)boot the AP answers 409 until it runs */
  bootDelayMs?: number;
  /** REBOOTING → connections closed (the firmware waits 5 s saving its DB) */
  rebootDelayMs?: number;
  /** connections refused this long, then the AP boots */
  rebootDownMs?: number;
  /** the nightly reboot, every this many ms; undefined: only `reboot()` */
  rebootEveryMs?: number;
  /** the first `virtualTagCount` tags are virtual (batteryMv 1337) */
  virtualTagCount?: number;
  /** the AP's clock minus the host's (no NTP on an isolated VLAN: often an hour or more) */
  clockOffsetMs?: number;
  /**
   * a tag's record as the AP's saved tag database has it (tag_db.cpp loadDB at boot: `hash`, `updatecount`,
   * `updatelast` come back, `pending` starts at 0) with the drawing commands kept in /current/<mac>.json; the tag
   * itself still shows that image (e-paper keeps it without power). None: a tag new to this AP.
   */
  savedTag?: (mac: string) => { hash: string; json: string | null; updatecount: number; updatelast: number } | undefined;
  /** no time source: the clock starts at 0 (1970) at every boot, until `POST /set_time` */
  noTime?: boolean;
  /** the AP setting `stopsleep` (tag_db.cpp:330, default 1) */
  stopsleep?: 0 | 1;
  /**
   * the idle sleep the AP gives a tag when nobody watches (`maxsleep`: the firmware's default is 10 minutes,
   * `OEPL_FIRMWARE_MAX_SLEEP_MS`). Default here: the check-in interval, so suites written before this option keep
   * their timing; a test of battery use sets it.
   */
  maxSleepMs?: number;
  /** `/sysinfo` `buildversion`; below 2.60 records carry no `updatecount`/`updatelast` */
  buildVersion?: string;
  /** hwType per tag, cycled over the tags (resources/tagtypes/*.json); default 0x01, the M2 2.9" */
  hwTypes?: readonly number[];
  /**
   * `lostLogFrames`: every `logMsg` frame is lost (AsyncWebSocket drops frames for a client whose queue is full), e.g.
   * the "same image" notice
   */
  faults?: { busyProbability?: number; xferTimeoutProbability?: number; lostLogFrames?: boolean };
};

/** `config.maxsleep` default, 10 minutes (tag_db.cpp:329) */
export const OEPL_FIRMWARE_MAX_SLEEP_MS = 10 * 60_000;

export const OEPL_AP_DEFAULTS = {
  checkInIntervalMs: 60_000,
  renderDelayMs: 1_500,
  sysIntervalMs: 5_000,
  bootDelayMs: 3_000,
  rebootDelayMs: 5_000,
  rebootDownMs: 20_000,
  buildVersion: '2.85',
} as const;

/** What the tag shows and what the AP knows of it (a `fillNode` record plus simulator-only fields). */
export type SimulatedOeplTag = {
  mac: string;
  hash: string;
  lastseen: number;
  nextcheckin: number;
  pending: number;
  batteryMv: number;
  updatecount: number;
  updatelast: number;
  contentMode: number;
  /** the drawing commands the tag's display shows (null: nothing from us yet) */
  displayedJson: string | null;
  ledFlashes: number;
  lastLedCommand: string | null;
  hwType: number;
  /** times the tag woke and checked in (its radio on: what costs battery) */
  checkIns: number;
};

type QueueItem = { kind: 'image'; hash: string; json: string } | { kind: 'led'; command: string };
type TagState = SimulatedOeplTag & {
  storedJson: string | null;
  queue: QueueItem[];
  nextCheckInAt: number;
  /** stored, not rendered yet */ renderDue: boolean;
};

export type OeplApSimulatorStats = {
  uploads: number;
  busyAnswers: number;
  unknownMacAnswers: number;
  renders: number;
  skippedRenders: number;
  transfers: number;
  xferTimeouts: number;
  reboots: number;
  /** check-ins over all tags */
  wakeups: number;
  refreshes: number;
};

const EMPTY_HASH = '0'.repeat(32);
const MAX_BODY_BYTES = 256 * 1024;
const MAX_TAGS = 65_536;
// include/tag_db.h:10-13
export const RUNSTATUS_STOP = 0;
export const RUNSTATUS_PAUSE = 1;
export const RUNSTATUS_RUN = 2;
export const RUNSTATUS_INIT = 3;
/** the firmware's sanity check on `/set_time` (web.cpp:696) */
const MIN_VALID_EPOCH_S = 1_600_000_000;

export class OeplApSimulator {
  readonly macs: readonly string[];
  readonly stats: OeplApSimulatorStats = {
    uploads: 0,
    busyAnswers: 0,
    unknownMacAnswers: 0,
    renders: 0,
    skippedRenders: 0,
    transfers: 0,
    xferTimeouts: 0,
    reboots: 0,
    wakeups: 0,
    refreshes: 0,
  };
  private readonly tags = new Map<string, TagState>();
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: () => number;
  private readonly settings: Required<
    Omit<
      OeplApSimulatorOptions,
      | 'faults'
      | 'rebootEveryMs'
      | 'logger'
      | 'random'
      | 'clock'
      | 'tagCount'
      | 'virtualTagCount'
      | 'clockOffsetMs'
      | 'noTime'
      | 'hwTypes'
      | 'savedTag'
    >
  > & { rebootEveryMs?: number };
  /** the AP's clock = host clock + this; with `noTime` reset to "1970 + uptime" at every boot */
  private clockOffsetMs: number;
  private readonly noTime: boolean;
  private readonly faults: { busyProbability: number; xferTimeoutProbability: number; lostLogFrames: boolean };
  private forcedBusy = 0;
  private readonly forcedXferTimeouts = new Set<string>();
  private readonly unreachableTags = new Set<string>();
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private boot: TimerGroup | undefined;
  private runStatus = RUNSTATUS_STOP;
  private acceptingSockets = false;
  private boundPort = 0;
  private bootedAt = 0;
  private stopped = false;
  private rebooting: Promise<void> | undefined;

  constructor(options: OeplApSimulatorOptions) {
    if (options.tagCount < 0 || options.tagCount > MAX_TAGS) throw new RangeError(`tagCount must be 0…${MAX_TAGS}`);
    this.log = options.logger.child({ component: 'sim-oepl-ap' });
    this.random = options.random;
    this.clock = options.clock ?? Date.now;
    this.settings = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      checkInIntervalMs: options.checkInIntervalMs ?? OEPL_AP_DEFAULTS.checkInIntervalMs,
      renderDelayMs: options.renderDelayMs ?? OEPL_AP_DEFAULTS.renderDelayMs,
      sysIntervalMs: options.sysIntervalMs ?? OEPL_AP_DEFAULTS.sysIntervalMs,
      bootDelayMs: options.bootDelayMs ?? OEPL_AP_DEFAULTS.bootDelayMs,
      rebootDelayMs: options.rebootDelayMs ?? OEPL_AP_DEFAULTS.rebootDelayMs,
      rebootDownMs: options.rebootDownMs ?? OEPL_AP_DEFAULTS.rebootDownMs,
      rebootEveryMs: options.rebootEveryMs,
      stopsleep: options.stopsleep ?? 1,
      maxSleepMs: options.maxSleepMs ?? options.checkInIntervalMs ?? OEPL_AP_DEFAULTS.checkInIntervalMs,
      buildVersion: options.buildVersion ?? OEPL_AP_DEFAULTS.buildVersion,
    };
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.noTime = options.noTime ?? false;
    const hwTypes = options.hwTypes?.length ? options.hwTypes : [0x01];
    this.faults = {
      busyProbability: options.faults?.busyProbability ?? 0,
      xferTimeoutProbability: options.faults?.xferTimeoutProbability ?? 0,
      lostLogFrames: options.faults?.lostLogFrames ?? false,
    };
    const now = this.clock();
    for (let index = 0; index < options.tagCount; index++) {
      const mac = `0000021D${(0xa00000 + index).toString(16).toUpperCase().padStart(8, '0')}`;
      const virtual = index < (options.virtualTagCount ?? 0);
      const saved = options.savedTag?.(mac);
      this.tags.set(mac, {
        mac,
        hash: saved?.hash ?? EMPTY_HASH,
        lastseen: Math.floor((now + this.clockOffsetMs) / 1000) - randomInt(this.random, 1, 60),
        nextcheckin: 0,
        pending: 0,
        batteryMv: virtual ? 1337 : randomInt(this.random, 2_500, 3_000),
        updatecount: saved?.updatecount ?? 0,
        updatelast: saved?.updatelast ?? 0,
        contentMode: 0,
        displayedJson: saved?.json ?? null,
        ledFlashes: 0,
        lastLedCommand: null,
        hwType: hwTypes[index % hwTypes.length] as number,
        checkIns: 0,
        storedJson: saved?.json ?? null,
        queue: [],
        // spread the first check-ins over one interval, like tags that woke at different times
        nextCheckInAt: now + randomBetween(this.random, 0, this.settings.checkInIntervalMs),
        renderDue: false,
      });
    }
    this.macs = [...this.tags.keys()];
  }

  /** `http://host:port` */
  get url(): string {
    return `http://${this.settings.host}:${this.boundPort}`;
  }

  get isRunning(): boolean {
    return this.runStatus === RUNSTATUS_RUN;
  }

  /** RUNSTATUS as `sys.runstate` reports it */
  get runState(): number {
    return this.runStatus;
  }

  /** The AP's own clock, ms (what `currtime` and the records' times are read from). */
  apNowMs(): number {
    return this.clock() + this.clockOffsetMs;
  }

  /** Someone changed the AP's clock (NTP stepped it, a person set it). */
  setClockOffsetMs(offsetMs: number): void {
    this.clockOffsetMs = offsetMs;
  }

  /** Content generation paused, as after a panic reset (main.cpp:183-187): `/jsonupload` answers 409 meanwhile. */
  pauseContent(forMs: number): void {
    if (this.runStatus !== RUNSTATUS_RUN) return;
    this.runStatus = RUNSTATUS_PAUSE;
    this.boot?.after(forMs, () => {
      if (this.runStatus === RUNSTATUS_PAUSE) this.runStatus = RUNSTATUS_RUN;
    });
  }

  /** Websocket clients now connected: to the firmware, the web UI is open. */
  get watchers(): number {
    return this.wss?.clients.size ?? 0;
  }

  tag(mac: string): Readonly<SimulatedOeplTag> | undefined {
    const tag = this.tags.get(mac.toUpperCase());
    if (!tag) return undefined;
    const { storedJson: _stored, queue: _queue, nextCheckInAt: _next, renderDue: _render, ...visible } = tag;
    return visible;
  }

  /** The next `count` uploads answer 409, whatever the probabilities say. */
  failNextUploads(count: number): void {
    this.forcedBusy += count;
  }

  /** The tag's next transfer times out (its whole queue is dropped). */
  failNextTransfer(mac: string): void {
    this.forcedXferTimeouts.add(mac.toUpperCase());
  }

  /** An unreachable tag (out of radio range, battery out) does not check in until it is reachable again. */
  setTagReachable(mac: string, reachable: boolean): void {
    const key = mac.toUpperCase();
    if (reachable) this.unreachableTags.delete(key);
    else this.unreachableTags.add(key);
  }

  /** Pushes a raw frame to every websocket client: a broken or hostile AP, for tests of what reads it. */
  injectFrame(text: string): void {
    if (!this.wss) return;
    for (const client of this.wss.clients) if (client.readyState === 1) client.send(text);
  }

  async start(): Promise<void> {
    this.stopped = false;
    // a restarted simulator comes back where it was, like an AP after a power cut
    await this.listen(this.boundPort || this.settings.port);
    this.bootUp();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.boot?.close();
    this.boot = undefined;
    this.runStatus = RUNSTATUS_STOP;
    await this.closeServer();
    await this.rebooting?.catch(() => undefined);
  }

  /** The nightly reboot: REBOOTING, 409 while saving, connections closed, down, boot. Resolves once it runs again. */
  reboot(): Promise<void> {
    this.rebooting ??= this.runReboot().finally(() => (this.rebooting = undefined));
    return this.rebooting;
  }

  private async runReboot(): Promise<void> {
    this.stats.reboots++;
    this.log.info('nightly reboot');
    this.broadcast({ errMsg: 'REBOOTING' });
    this.runStatus = RUNSTATUS_STOP;
    this.acceptingSockets = false;
    const boot = this.boot;
    await delay(this.settings.rebootDelayMs);
    // refreshAllPending(): an image queued but not fetched is rendered again after boot
    for (const tag of this.tags.values()) {
      if (tag.queue.some((item) => item.kind === 'image')) tag.renderDue = true;
      tag.queue = [];
      tag.pending = 0;
    }
    boot?.close();
    await this.closeServer();
    await delay(this.settings.rebootDownMs);
    if (this.stopped) return;
    await this.listen(this.boundPort);
    this.bootUp();
    await delay(this.settings.bootDelayMs);
  }

  private bootUp(): void {
    const boot = new TimerGroup();
    this.boot = boot;
    this.bootedAt = this.clock();
    // without NTP the ESP32 starts at the epoch at every boot (system.cpp:16-35 waits for NTP, then runs anyway)
    if (this.noTime) this.clockOffsetMs = -this.bootedAt;
    this.runStatus = RUNSTATUS_INIT;
    this.acceptingSockets = true;
    boot.after(this.settings.bootDelayMs, () => {
      this.runStatus = RUNSTATUS_RUN;
      for (const tag of this.tags.values()) {
        if (tag.renderDue) {
          tag.renderDue = false;
          this.render(tag);
        }
      }
    });
    boot.every(this.settings.sysIntervalMs, () => this.sendSys());
    boot.every(Math.max(10, Math.min(100, this.settings.checkInIntervalMs / 10)), () => this.checkInDueTags());
    if (this.settings.rebootEveryMs !== undefined) boot.after(this.settings.rebootEveryMs, () => void this.reboot());
  }

  // ---- tags ----

  private checkInDueTags(): void {
    if (this.runStatus === RUNSTATUS_STOP) return;
    const now = this.clock();
    for (const tag of this.tags.values()) if (now >= tag.nextCheckInAt && !this.unreachableTags.has(tag.mac)) this.checkIn(tag, now);
  }

  /** The tag sleeps long only if the AP tells it to: nobody watching or `stopsleep` 0 (contentmanager.cpp:90). */
  private keepsTagsAwake(): boolean {
    return this.watchers > 0 && this.settings.stopsleep === 1;
  }

  private checkIn(tag: TagState, now: number): void {
    // watched: no idle request and data-avail with nextCheckin 0 (newproto.cpp:166); else the data-avail or the idle
    // request (prepareIdleReq, newproto.cpp:76-84) sends it to sleep until its next update, at most `maxsleep`
    const awake = this.keepsTagsAwake();
    const intervalMs = awake ? this.settings.checkInIntervalMs * randomBetween(this.random, 0.8, 1.2) : this.settings.maxSleepMs;
    const nowS = Math.floor((now + this.clockOffsetMs) / 1000);
    tag.nextCheckInAt = now + intervalMs;
    tag.lastseen = nowS;
    tag.nextcheckin = nowS + Math.ceil(intervalMs / 1000);
    tag.checkIns++;
    this.stats.wakeups++;
    if (tag.batteryMv !== 1337 && this.random() < 0.01) tag.batteryMv = Math.max(2_000, tag.batteryMv - 5);
    if (tag.queue.length > 0) {
      const forced = this.forcedXferTimeouts.delete(tag.mac);
      if (forced || this.random() < this.faults.xferTimeoutProbability) {
        // processXferTimeout(): errMsg, then every queued item for the tag is dropped
        this.stats.xferTimeouts++;
        this.broadcast({ errMsg: `< ${tag.mac} xfer timeout\r\n` });
        tag.queue = [];
        tag.pending = 0;
      } else {
        // processXferComplete() per item: every completed transfer counts, LED commands too
        for (const item of tag.queue) {
          this.stats.transfers++;
          tag.updatecount++;
          tag.updatelast = nowS;
          if (item.kind === 'image') {
            tag.hash = item.hash;
            tag.displayedJson = item.json;
          } else {
            tag.ledFlashes++;
            tag.lastLedCommand = item.command;
            // the command payload is the item's dataVer, and the tag's md5 becomes it (newproto.cpp:778, 475)
            tag.hash = ledHash(item.command);
          }
        }
        tag.queue = [];
        tag.pending = 0;
      }
    }
    this.sendTag(tag);
  }

  /** Content generation: the stored drawing commands become an image, unless it is the one the tag shows. */
  private render(tag: TagState): void {
    if (tag.storedJson === null || this.runStatus === RUNSTATUS_STOP) return;
    tag.renderDue = false;
    const hash = imageHash(tag.storedJson);
    if (hash === tag.hash) {
      this.stats.skippedRenders++;
      // newproto.cpp:211-213: the log line, then the tag's record, nothing queued
      if (!this.faults.lostLogFrames) this.broadcast({ logMsg: 'new image is the same as current image. not updating tag.' });
      this.sendTag(tag);
      return;
    }
    this.stats.renders++;
    tag.queue = [...tag.queue.filter((item) => item.kind !== 'image'), { kind: 'image', hash, json: tag.storedJson }];
    tag.pending = tag.queue.length;
    this.sendTag(tag);
  }

  private record(tag: TagState): Record<string, unknown> {
    const legacy = versionBelow(this.settings.buildVersion, 2, 60);
    const record: Record<string, unknown> = {
      mac: tag.mac,
      hash: tag.hash,
      lastseen: tag.lastseen,
      nextupdate: 0,
      nextcheckin: tag.nextcheckin,
      pending: tag.pending,
      alias: '',
      contentMode: tag.contentMode,
      LQI: 100,
      RSSI: -60,
      temperature: 21,
      batteryMv: tag.batteryMv,
      hwType: tag.hwType,
      wakeupReason: 0,
      capabilities: 0,
      modecfgjson: tag.storedJson === null ? '' : `{"filename":"/current/${tag.mac}.json","interval":"0"}`,
      isexternal: false,
      apip: '0.0.0.0',
      rotate: 0,
      lut: 0,
      invert: 0,
      updatecount: tag.updatecount,
      updatelast: tag.updatelast,
      ch: 11,
      ver: 0x0027,
    };
    if (legacy) {
      // fillNode() before 2.60 wrote no transfer counters
      delete record.updatecount;
      delete record.updatelast;
    }
    return record;
  }

  private sendTag(tag: TagState): void {
    this.broadcast({ tags: [this.record(tag)] });
  }

  private sendSys(): void {
    const now = this.clock();
    const apNowS = Math.floor((now + this.clockOffsetMs) / 1000);
    let lowbattcount = 0;
    for (const tag of this.tags.values()) if (tag.batteryMv < 2400 && tag.batteryMv !== 0 && tag.batteryMv !== 1337) lowbattcount++;
    this.broadcast({
      sys: {
        currtime: apNowS,
        heap: 150_000,
        recordcount: this.tags.size,
        dbsize: this.tags.size * 200,
        apstate: 1,
        runstate: this.runStatus,
        uptime: Math.floor((now - this.bootedAt) / 1000),
        lowbattcount,
        timeoutcount: 0,
      },
    });
  }

  private broadcast(message: unknown): void {
    if (!this.wss) return;
    this.injectFrame(JSON.stringify(message));
  }

  // ---- HTTP ----

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://ap');
    const send = (status: number, body: string, type = 'text/plain') => {
      response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      response.end(body);
    };
    if (request.method === 'POST' && url.pathname === '/jsonupload') return this.jsonUpload(await readForm(request), send);
    if (request.method === 'POST' && url.pathname === '/tag_cmd') return this.tagCommand(await readForm(request), send);
    if (request.method === 'GET' && url.pathname === '/led_flash') return this.ledFlash(url.searchParams, send);
    if (request.method === 'GET' && url.pathname === '/get_db') return this.getDb(url.searchParams, send);
    if (request.method === 'POST' && url.pathname === '/set_time') return this.setTime(await readForm(request), send);
    if (request.method === 'GET' && url.pathname === '/sysinfo') return this.sysinfo(send);
    send(404, 'Not found');
  }

  private jsonUpload(form: URLSearchParams | undefined, send: (status: number, body: string) => void): void {
    if (this.runStatus !== RUNSTATUS_RUN) return send(409, 'come back later');
    if (this.forcedBusy > 0 || this.random() < this.faults.busyProbability) {
      if (this.forcedBusy > 0) this.forcedBusy--;
      this.stats.busyAnswers++;
      return send(409, 'come back later');
    }
    const macText = form?.get('mac') ?? null;
    const json = form?.get('json') ?? null;
    if (macText === null || json === null) return send(400, 'Missing parameters');
    const mac = hexToMac(macText);
    // hex2mac() failing sends no answer at all in the firmware; a client sees the connection end
    if (!mac) return send(400, 'Missing parameters');
    this.stats.uploads++;
    const tag = this.tags.get(mac);
    if (!tag) {
      this.stats.unknownMacAnswers++;
      return send(400, 'mac not found in tagDB');
    }
    tag.storedJson = json;
    tag.contentMode = 19;
    // nextupdate = 0: rendered soon, or after boot if the AP reboots first
    tag.renderDue = true;
    this.sendTag(tag);
    const boot = this.boot;
    boot?.after(this.settings.renderDelayMs, () => this.render(tag));
    send(200, 'Ok, saved');
  }

  private tagCommand(form: URLSearchParams | undefined, send: (status: number, body: string) => void): void {
    const macText = form?.get('mac') ?? null;
    const command = form?.get('cmd') ?? null;
    if (macText === null || command === null) return send(500, 'param error');
    const mac = hexToMac(macText);
    const tag = mac ? this.tags.get(mac) : undefined;
    if (!tag) return send(400, 'Error: mac not found');
    switch (command) {
      case 'clear':
        tag.queue = [];
        tag.pending = 0;
        this.sendTag(tag);
        break;
      case 'refresh':
        // updateContent(): clearPending, md5 zeroed, redrawn (newproto.cpp:694-700)
        this.stats.refreshes++;
        tag.hash = EMPTY_HASH;
        tag.queue = tag.queue.filter((item) => item.kind !== 'image');
        tag.pending = tag.queue.length;
        this.sendTag(tag);
        this.render(tag);
        break;
      case 'ledflash':
      case 'ledflash_long':
      case 'ledflash_stop':
        this.queueLed(tag, command);
        break;
    }
    send(200, 'Ok, done');
  }

  /** web.cpp:692-710 */
  private setTime(form: URLSearchParams | undefined, send: (status: number, body: string) => void): void {
    const epochText = form?.get('epoch') ?? null;
    if (epochText === null) return send(400, "missing 'epoch'");
    const epochS = Number.parseInt(epochText, 10) || 0; // String.toInt(): 0 for garbage
    if (epochS <= MIN_VALID_EPOCH_S) return send(400, 'invalid epoch');
    this.clockOffsetMs = epochS * 1000 - this.clock();
    this.sendSys();
    send(200, 'ok');
  }

  /** ota.cpp:38-72 (the fields a client reads) */
  private sysinfo(send: (status: number, body: string, type?: string) => void): void {
    const info = {
      alias: 'OpenEPaperLink',
      env: 'ESP32_S3_16_8_YELLOW_AP',
      buildtime: '1723200000',
      buildversion: this.settings.buildVersion,
      sha: '0',
      ap_version: 0x001d,
      hasC6: 0,
      hasH2: 0,
      hasTslr: 0,
      hasFlasher: 0,
    };
    send(200, JSON.stringify(info), 'application/json');
  }

  private ledFlash(query: URLSearchParams, send: (status: number, body: string) => void): void {
    const mac = hexToMac(query.get('mac') ?? '');
    const tag = mac ? this.tags.get(mac) : undefined;
    if (!tag) return send(400, 'parameters are missing');
    const pattern = query.get('pattern') ?? '0'.repeat(24);
    if (!/^[0-9A-Fa-f]{24}/.test(pattern)) return send(400, 'Error: expects 12 hex bytes in pattern');
    this.queueLed(tag, `pattern:${pattern.slice(0, 24).toLowerCase()}`);
    send(200, 'ok, request transmitted');
  }

  private queueLed(tag: TagState, command: string): void {
    tag.queue.push({ kind: 'led', command });
    tag.pending = tag.queue.length;
    this.sendTag(tag);
  }

  /** `?mac=` one tag; `?pos=` pages from an 8-bit position (it wraps past 255, as in the firmware) */
  private getDb(query: URLSearchParams, send: (status: number, body: string, type?: string) => void): void {
    const macText = query.get('mac');
    if (macText !== null) {
      const mac = hexToMac(macText);
      if (!mac) return send(200, '{"error": "malformatted parameter"}', 'application/json');
      const tag = this.tags.get(mac);
      return send(200, JSON.stringify({ tags: tag ? [this.record(tag)] : [] }), 'application/json');
    }
    const startPos = (Number.parseInt(query.get('pos') ?? '0', 10) || 0) & 0xff;
    const all = [...this.tags.values()];
    const page: Record<string, unknown>[] = [];
    let continu: number | undefined;
    let size = 0;
    for (let position = startPos; position < all.length; position++) {
      const record = this.record(all[position] as TagState);
      page.push(record);
      size += JSON.stringify(record).length;
      if (size > 5000) {
        continu = position + 1;
        break;
      }
    }
    send(200, JSON.stringify(continu === undefined ? { tags: page } : { tags: page, continu }), 'application/json');
  }

  // ---- server lifecycle ----

  private async listen(port: number): Promise<void> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.log.warn({ err: error }, 'request failed');
        if (!response.headersSent) response.writeHead(500).end('internal error');
      });
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
    server.on('upgrade', (request, socket, head) => {
      // ws.enable(false) while rebooting: new websocket clients are turned away
      if (new URL(request.url ?? '/', 'http://ap').pathname !== '/ws' || !this.acceptingSockets) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(request, socket, head, (client: WebSocket) => wss.emit('connection', client, request));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.settings.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
    this.wss = wss;
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    const wss = this.wss;
    this.server = undefined;
    this.wss = undefined;
    this.acceptingSockets = false;
    if (wss) for (const client of wss.clients) client.terminate();
    wss?.close();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The firmware keeps the first 8 bytes of the image md5 after a transfer; the rest are zeros. */
export function imageHash(json: string): string {
  return createHash('md5').update(json).digest('hex').slice(0, 16) + '0'.repeat(16);
}

/** The first 8 bytes of an LED command's payload, as the tag's md5 after the transfer. */
function ledHash(command: string): string {
  return createHash('md5').update(`led:${command}`).digest('hex').slice(0, 16) + '0'.repeat(16);
}

/** `2.59` < 2.60; anything unreadable counts as old. */
export function versionBelow(version: string, major: number, minor: number): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) return true;
  const [have, haveMinor] = [Number(match[1]), Number(match[2])];
  return have < major || (have === major && haveMinor < minor);
}

function hexToMac(text: string): string | undefined {
  if (!/^([0-9A-Fa-f]{12}|[0-9A-Fa-f]{16})$/.test(text)) return undefined;
  return (text.length === 12 ? `0000${text}` : text).toUpperCase();
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  if (!(request.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) return undefined;
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
