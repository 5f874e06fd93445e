/**
 * The OpenEPaperLink access point behind the LabelDriver port. Prices go out as drawing commands with
 * `POST /jsonupload` (one request at a time, rate-limited: the AP is an ESP32 that also drives the radio); what the
 * tags do comes back on the websocket `/ws` as tag records. "Ok, saved" only means stored: a label counts as showing a
 * version when a record confirms it (see `confirmsSubmission`), or — because the AP skips an identical render — when
 * it already shows the same content we confirmed before and its image hash has not changed since.
 *
 * Faults and what we do: 409 busy → retried after a pause (the whole AP lane pauses); 400 mac not found → failed;
 * "xfer timeout" (the AP dropped every queued item for the tag) → uploaded again; REBOOTING or a lost websocket → link
 * down, reconnect with backoff and jitter, uploads wait for the link. Uploaded but the tag not seen → `waiting`, and it
 * confirms when the tag checks in. Queues and the tag table are bounded; a malformed frame is logged and skipped.
 * `stop()` drops what is queued without reporting it: the labels room re-sends what was not confirmed when it resumes.
 *
 * Held against the firmware (docs/labels-openepaperlink.md): the websocket is held only while something is in flight
 * (an open one keeps every tag awake: `stopsleep`), with `/get_db` polled in between; nothing is uploaded on a
 * connection before its first `sys` heartbeat (the AP's clock); a skipped identical render confirms (or is forced
 * with `tag_cmd refresh`); firmware before 2.60 is `unsupported firmware`; the layout follows the tag's `hwType`.
 */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { LogThrottle } from '../core/log-throttle.js';
import type { HealthCheck } from '../core/module.js';
import type { FlashPattern, LabelContent, LabelDriver, LabelDriverEvent } from './label-driver.js';
import { launchSend, offerSend, type Superseded } from './label-send-slot.js';
import {
  OeplProtocolError,
  OeplUnsupportedFirmwareError,
  normalizeOeplMac,
  parseOeplMessage,
  parseOeplTagsAnswer,
  type OeplTagRecord,
} from './oepl-messages.js';
import {
  OEPL_SUPPORTED_FIRMWARE_TEXT,
  backoffDelayMs,
  classifyUploadAnswer,
  confirmsSubmission,
  oeplBattery,
  oeplContentKey,
  oeplFirmware,
  seenSinceSubmission,
} from './oepl-rules.js';
import type { OeplDriverLimits } from './label-driver-limits.js';
import { oeplCanvas } from './oepl-layout.js';

export type { OeplDriverLimits } from './label-driver-limits.js';

export type OeplDriverOptions = {
  /** e.g. `http://10.20.1.5` */
  baseUrl: string;
  log: Logger;
  driverId?: string;
  /** the tags this AP serves; absent: any tag the AP has reported */
  macs?: readonly string[];
  /**
   * `POST /set_time` with our clock when the AP reports no time (before 2020: no NTP on its VLAN), as the AP's own UI
   * offers (web.cpp:690-710). Off by default: the driver copes with any AP clock; this only makes the AP's times right.
   */
  setApTime?: boolean;
  now?: () => number;
  random?: () => number;
  /** every limit: `configDefaults(OeplDriverLimitsSchema)` and what differs (label-driver-limits.ts) */
  limits: OeplDriverLimits;
};

/** The AP could not be reached (refused, reset, timed out, aborted). */
export class OeplUnreachableError extends Error {
  constructor(
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(`OpenEPaperLink AP unreachable (${path}): ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
    this.name = 'OeplUnreachableError';
  }
}

/** The AP answered something the firmware does not say it answers. */
export class OeplUnexpectedAnswerError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly body: string,
    readonly mac?: string,
  ) {
    super(`unexpected answer from OpenEPaperLink AP to ${path}${mac ? ` for ${mac}` : ''}: ${status} "${body.slice(0, 120)}"`);
    this.name = 'OeplUnexpectedAnswerError';
  }
}

export type OeplDriverStats = {
  uploads: number;
  busyAnswers: number;
  xferTimeouts: number;
  confirmed: number;
  failed: number;
  skippedIdentical: number;
  protocolErrors: number;
  reconnects: number;
  /** websocket closed because nothing was in flight (tags may sleep) */
  idleCloses: number;
  polls: number;
};

type Upload = { content: LabelContent; key: string; busyRetries: number; resends: number; unreachableRetries: number };
type InFlight = Upload & {
  submittedAtApS: number;
  baselineUpdateCount: number;
  waitingReported: boolean;
  checks: number;
  timer: NodeJS.Timeout;
  /** `tag_cmd refresh` sent: the render was skipped unheard, so it was forced */
  refreshed: boolean;
};
type Tag = {
  mac: string;
  /** the label id the labels room used (12 or 16 digits, any case); events use it */
  labelId: string;
  record?: OeplTagRecord;
  /** our clock when `record` arrived */
  recordAt?: number;
  /** the last `lastseen` reported as a check-in */
  reportedLastSeen?: number;
  /** firmware before 2.60: the last `lastseen` reported as a check-in */
  legacyLastSeen?: number;
  lastConfirmed?: { key: string; hash: string };
  /**
   * An LED command the AP accepted and the tag has not fetched yet (AP clock, s). The AP counts every completed
   * transfer in `updatecount`, LED commands too, so an upload made meanwhile expects one more.
   */
  flashSinceApS?: number;
  flashesOutstanding: number;
  queued?: Upload;
  inFlight?: InFlight;
};

const MAX_ANSWER_CHARS = 64 * 1024;
const MAX_PENDING_CHECKS = 3;
/** `/set_time` refuses anything earlier (web.cpp:696); a `currtime` below it means the AP has no time */
const MIN_VALID_AP_EPOCH_S = 1_600_000_000;
/** an offset change beyond this is a clock step, not the whole-second rounding of `currtime` */
const CLOCK_STEP_S = 5;
const AP_RUNSTATUS_RUN = 2;
/** newproto.cpp:212 */
const SAME_IMAGE_LOG = /new image is the same as current image/i;

export class OeplDriver implements LabelDriver {
  readonly name: string;
  readonly driverId: string;
  private readonly limits: OeplDriverLimits;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly baseUrl: string;
  private readonly configuredMacs: ReadonlySet<string> | undefined;
  private readonly listeners = new Set<(event: LabelDriverEvent) => void>();
  private readonly tags = new Map<string, Tag>();
  /** macs with an upload waiting, in arrival order; a newer version replaces the older in place */
  private readonly uploadQueue = new Set<string>();
  private readonly flashQueue = new Map<string, FlashPattern>();
  private readonly logThrottle: LogThrottle;
  private readonly stats_: OeplDriverStats = {
    uploads: 0,
    busyAnswers: 0,
    xferTimeouts: 0,
    confirmed: 0,
    failed: 0,
    skippedIdentical: 0,
    protocolErrors: 0,
    reconnects: 0,
    idleCloses: 0,
    polls: 0,
  };
  private readonly requests = new Set<AbortController>();
  private running = false;
  private socket: WebSocket | undefined;
  private linkUp = false;
  /** the websocket is open (uploads go out only then: their confirmations come on it) */
  private socketOpen = false;
  /** our clock when the socket opened: a tag record older than that may be stale (we were not listening) */
  private socketOpenedAt = 0;
  /** the websocket was closed on purpose, nothing in flight; polling instead */
  private idle = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private inFlightCount = 0;
  /** `sys.runstate` last heard on this connection (undefined: an AP that does not say) */
  private apRunState: number | undefined;
  /** `/sysinfo` buildversion, once read */
  private firmwareVersion: string | undefined;
  /** set while the AP runs firmware we cannot drive: what `/api/labels` shows as the link's detail */
  private unsupported: string | undefined;
  private firmwareTimer: NodeJS.Timeout | undefined;
  /** in flight and reported `waiting` (the tag is not checking in): confirmed by polling, not worth the websocket */
  private readonly waitingMacs = new Set<string>();
  private linkDetail = 'not connected';
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private pumpWake: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private nextRequestAt = 0;
  /**
   * AP clock minus ours, in seconds, from `sys.currtime` (web.cpp:113-116, every 5 s: main.cpp:37, 198-200). Nothing
   * is uploaded on a connection before its first heartbeat: the AP may be an hour off (no NTP on an isolated VLAN) or
   * back at 1970 after a reboot, and a submit time on a guessed clock never matches `updatelast`.
   */
  private apClockOffsetS = 0;
  private apClockKnown = false;
  /** an offset was learned on some connection (to tell a clock step after a reboot) */
  private apClockLearnedOnce = false;
  private readonly setApTime: boolean;
  private apTimeSetOnThisLink = false;
  /**
   * The AP just said it skipped a render as identical to what the tag shows; the record it sends next is that tag's
   * (newproto.cpp:211-213: `wsLog(...)` then `wsSendTaginfo(dst, SYNC_TAGSTATUS)`).
   */
  private skipAnnounced = false;

  constructor(options: OeplDriverOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.driverId = options.driverId ?? `oepl:${new URL(this.baseUrl).host}`;
    this.name = `labels-${this.driverId}`;
    this.limits = options.limits;
    this.log = options.log.child({ component: 'labels', driver: this.driverId });
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.setApTime = options.setApTime ?? false;
    this.configuredMacs = options.macs ? new Set(options.macs.map((mac) => normalizeOeplMac(mac) ?? mac)) : undefined;
    this.logThrottle = new LogThrottle({ burst: 5, windowMs: 60_000, maxKeys: 100 }, this.now);
  }

  handles(labelId: string): boolean {
    const mac = normalizeOeplMac(labelId);
    if (!mac) return false;
    return this.configuredMacs ? this.configuredMacs.has(mac) : this.tags.get(mac)?.record !== undefined;
  }

  onEvent(listener: (event: LabelDriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get stats(): Readonly<OeplDriverStats> {
    return this.stats_;
  }

  /** `buildversion` from `/sysinfo`, and whether this driver supports it (undefined: not known yet) */
  get firmware(): { version: string | undefined; unsupported: string | undefined } {
    return { version: this.firmwareVersion, unsupported: this.unsupported };
  }

  get isLinkUp(): boolean {
    return this.linkUp;
  }

  health(): HealthCheck {
    let inFlight = 0;
    for (const tag of this.tags.values()) if (tag.inFlight) inFlight++;
    const runState = this.apRunState ?? null;
    return {
      ok: this.linkUp,
      link: this.linkUp ? 'up' : 'down',
      detail: this.linkDetail,
      queued: this.uploadQueue.size,
      inFlight,
      runState,
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.pollTimer);
    clearTimeout(this.firmwareTimer);
    this.socketOpen = false;
    for (const controller of this.requests) controller.abort();
    this.wakePump();
    const socket = this.socket;
    this.socket = undefined;
    socket?.terminate();
    await this.pumping;
    for (const tag of this.tags.values()) if (tag.inFlight) clearTimeout(tag.inFlight.timer);
    this.tags.clear();
    this.inFlightCount = 0;
    this.waitingMacs.clear();
    this.uploadQueue.clear();
    this.flashQueue.clear();
    this.setLink(false, 'stopped');
  }

  send(content: LabelContent): void {
    const mac = normalizeOeplMac(content.labelId);
    if (!mac) return this.fail(content, `not an OpenEPaperLink mac: ${content.labelId.slice(0, 32)}`, false);
    if (this.unsupported) return this.fail(content, this.unsupported, false);
    const tag = this.tagFor(mac, content.labelId);
    if (!tag) return this.fail(content, 'driver tracks too many tags', true);
    tag.labelId = content.labelId;
    if (tag.inFlight && tag.inFlight.content.version === content.version) {
      // Asked again for the version in flight: the caller's ack timeout ran out. If the tag has checked in since the
      // upload and the AP holds nothing for it, the AP lost the item (a transfer timeout while our websocket was down
      // drops the tag's queue and we never heard it): upload it again. Otherwise it is still on its way.
      const lost = tag.inFlight;
      if (!seenSinceSubmission(lost, tag.record) || (tag.record?.pending ?? 0) > 0) return;
      this.endInFlight(tag);
      const again: Upload = { content, key: lost.key, busyRetries: 0, unreachableRetries: 0, resends: lost.resends + 1 };
      if (again.resends > this.limits.maxXferResends) return this.fail(content, `lost by the access point ${again.resends} times`, true);
      this.log.debug(
        { mac, version: content.version, resend: again.resends },
        'asked again and the access point holds nothing: uploading again',
      );
      this.requeue(tag, again);
      this.kick();
      return;
    }
    const upload: Upload = { content, key: this.contentKey(tag, content), busyRetries: 0, resends: 0, unreachableRetries: 0 };
    // one upload the AP holds per tag, and the newest version queued behind it (it replaces the held one when it goes)
    const offered = offerSend({ inFlight: tag.inFlight, queued: tag.queued }, upload);
    if (offered.outcome === 'duplicate') return;
    if (offered.outcome === 'stale') return this.superseded(offered.superseded);
    const wasQueued = tag.queued !== undefined;
    if (!wasQueued && this.uploadQueue.size >= this.limits.maxQueuedLabels) return this.fail(content, 'driver queue full', true);
    if (offered.superseded) this.superseded(offered.superseded);
    tag.queued = upload;
    if (wasQueued) return; // in the queue already, in its place
    this.uploadQueue.add(mac);
    this.kick();
  }

  flash(labelId: string, pattern: FlashPattern): void {
    const mac = normalizeOeplMac(labelId);
    if (!mac) return;
    // latest wins: a "stop" after a "find" that has not gone out yet replaces it
    this.flashQueue.delete(mac);
    if (this.flashQueue.size >= this.limits.maxQueuedFlashes) {
      if (this.logThrottle.admit('flash-queue-full') >= 0) this.log.warn({ mac }, 'flash queue full, flash dropped');
      return;
    }
    this.flashQueue.set(mac, pattern);
    this.kick();
  }

  // ---- the request lane: one request at a time, `requestsPerSecond` at most ----

  private kick(): void {
    if (this.uploadQueue.size > 0 || this.flashQueue.size > 0) this.wake();
    if (!this.running || this.unsupported || !this.socketOpen || !this.apClockKnown || this.pumping) return;
    if (!this.apContentRunning()) return; // kicked again when a heartbeat says "run"
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      // work that arrived while the lane was finishing
      if (this.uploadQueue.size > 0 || this.flashQueue.size > 0) this.kick();
      else this.checkIdle();
    });
  }

  private async pump(): Promise<void> {
    while (
      this.running &&
      this.socketOpen &&
      this.apClockKnown &&
      this.apContentRunning() &&
      (this.uploadQueue.size > 0 || this.flashQueue.size > 0)
    ) {
      const waitMs = this.nextRequestAt - this.now();
      if (waitMs > 0) {
        await this.sleep(waitMs);
        continue;
      }
      this.nextRequestAt = this.now() + 1000 / this.limits.requestsPerSecond;
      const flash = this.flashQueue.entries().next();
      if (!flash.done) {
        const [mac, pattern] = flash.value;
        this.flashQueue.delete(mac);
        await this.sendFlash(mac, pattern);
        continue;
      }
      const mac = this.uploadQueue.values().next().value as string;
      this.uploadQueue.delete(mac);
      const tag = this.tags.get(mac);
      const upload = tag?.queued;
      if (!tag || !upload) continue;
      tag.queued = undefined;
      try {
        await this.deliver(tag, upload);
      } catch (error) {
        this.onUnexpectedError(tag, upload, error);
      }
    }
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.pumpWake = { timer: setTimeout(() => ((this.pumpWake = undefined), resolve()), delayMs), resolve };
    });
  }

  private wakePump(): void {
    const wake = this.pumpWake;
    this.pumpWake = undefined;
    if (wake) {
      clearTimeout(wake.timer);
      wake.resolve();
    }
  }

  private async deliver(tag: Tag, upload: Upload): Promise<void> {
    const { content } = upload;
    if (tag.inFlight) {
      // a newer version replaces one the AP holds: drop the AP's queue for the tag, so the older image cannot reach the
      // label after the newer was sent and be taken for it
      if (!(await this.tagCommand(tag, upload, 'clear'))) return;
      const replacing = launchSend({ inFlight: tag.inFlight, queued: upload }, (sent) => sent);
      this.endInFlight(tag);
      if (replacing?.superseded) this.superseded(replacing.superseded);
    }
    // a record from before this connection may be stale (the tag took transfers while we were not listening)
    if ((tag.record === undefined || (tag.recordAt ?? 0) < this.socketOpenedAt) && !(await this.lookUp(tag, upload))) return;
    if (this.unsupported) return this.fail(content, this.unsupported, false);
    // laid out for the tag's size, now that its record (hwType) is known
    upload.key = this.contentKey(tag, content);
    const shown = tag.lastConfirmed;
    if (shown && shown.key === upload.key && tag.record && tag.record.hash === shown.hash && tag.record.pending === 0) {
      // the AP would render the same image and skip it, so `updatecount` would never move: it is shown already
      this.stats_.skippedIdentical++;
      this.confirm(tag, content);
      return;
    }
    const form = new URLSearchParams({ mac: tag.mac, json: upload.key });
    if (this.limits.ttlMinutes !== undefined) form.set('ttl', String(this.limits.ttlMinutes));
    const submittedAtApS = this.apNowS();
    const baselineUpdateCount = (tag.record?.updatecount ?? 0) + tag.flashesOutstanding;
    const answer = await this.request('POST', '/jsonupload', form).catch((error: unknown) => error as OeplUnreachableError);
    if (answer instanceof Error) return this.retryUnreachable(tag, upload, answer);
    this.stats_.uploads++;
    const outcome = classifyUploadAnswer(answer.status, answer.body);
    switch (outcome.kind) {
      case 'stored': {
        const timer = setTimeout(() => this.checkInFlight(tag.mac), this.limits.confirmTimeoutMs);
        this.inFlightCount++;
        tag.inFlight = { ...upload, submittedAtApS, baselineUpdateCount, waitingReported: false, checks: 0, timer, refreshed: false };
        return;
      }
      case 'busy': {
        this.stats_.busyAnswers++;
        upload.busyRetries++;
        if (upload.busyRetries > this.limits.maxBusyRetries)
          return this.fail(content, `access point busy (409 "come back later") ${upload.busyRetries} times`, true);
        // the whole AP is busy (or about to reboot): pause the lane, not just this label
        this.nextRequestAt = Math.max(
          this.nextRequestAt,
          this.now() + backoffDelayMs(upload.busyRetries - 1, this.limits.busyPauseMs, this.limits.reconnectMaxMs, this.random),
        );
        return this.requeue(tag, upload);
      }
      case 'mac-not-found':
        return this.fail(content, 'mac not found', false);
      case 'unexpected': {
        const error = new OeplUnexpectedAnswerError('/jsonupload', outcome.status, outcome.body, tag.mac);
        this.log.error({ err: error, mac: tag.mac, version: content.version }, 'unexpected upload answer');
        return this.fail(content, error.message, outcome.retryable);
      }
    }
  }

  /** `GET /get_db?mac=`: the tag's record, to know its `updatecount` before the upload. */
  private async lookUp(tag: Tag, upload: Upload): Promise<boolean> {
    const path = `/get_db?mac=${tag.mac}`;
    const answer = await this.request('GET', path).catch((error: unknown) => error as OeplUnreachableError);
    if (answer instanceof Error) {
      this.retryUnreachable(tag, upload, answer);
      return false;
    }
    if (answer.status !== 200) throw new OeplUnexpectedAnswerError(path, answer.status, answer.body, tag.mac);
    let records: OeplTagRecord[];
    try {
      records = parseOeplTagsAnswer(answer.body);
    } catch (error) {
      if (!(error instanceof OeplUnsupportedFirmwareError)) throw error;
      this.markUnsupported(this.unsupportedDetail(error.detail));
      return false;
    }
    // an unknown mac answers {"tags":[]}; the upload then gets the AP's own "mac not found"
    for (const record of records) this.onRecord(record);
    return true;
  }

  /** `POST /tag_cmd`; false when the request did not get through (the upload was re-queued or failed). */
  private async tagCommand(tag: Tag, upload: Upload, command: 'clear'): Promise<boolean> {
    const answer = await this.request('POST', '/tag_cmd', new URLSearchParams({ mac: tag.mac, cmd: command })).catch(
      (error: unknown) => error as OeplUnreachableError,
    );
    if (answer instanceof Error) {
      this.retryUnreachable(tag, upload, answer);
      return false;
    }
    if (answer.status === 200) return true;
    if (answer.status === 400 && /mac not found/i.test(answer.body)) {
      this.fail(upload.content, 'mac not found', false);
      return false;
    }
    throw new OeplUnexpectedAnswerError('/tag_cmd', answer.status, answer.body, tag.mac);
  }

  private async sendFlash(mac: string, pattern: FlashPattern): Promise<void> {
    const command = pattern === 'find' ? 'ledflash_long' : 'ledflash_stop';
    const answer = await this.request('POST', '/tag_cmd', new URLSearchParams({ mac, cmd: command })).catch(
      (error: unknown) => error as Error,
    );
    if (!(answer instanceof Error) && answer.status === 200) {
      const tag = this.tags.get(mac);
      if (tag) {
        tag.flashSinceApS ??= this.apNowS();
        tag.flashesOutstanding++;
        if (tag.inFlight) tag.inFlight.baselineUpdateCount++;
      }
      return;
    }
    {
      const detail = answer instanceof Error ? answer.message : `${answer.status} "${answer.body.slice(0, 80)}"`;
      if (this.logThrottle.admit('flash-failed') >= 0) this.log.warn({ mac, pattern, detail }, 'LED flash not accepted');
    }
  }

  private retryUnreachable(tag: Tag, upload: Upload, error: OeplUnreachableError): void {
    upload.unreachableRetries++;
    if (!this.running) return;
    if (upload.unreachableRetries > this.limits.maxUnreachableRetries) return this.fail(upload.content, error.message, true);
    if (this.logThrottle.admit('unreachable') >= 0) this.log.warn({ err: error, mac: tag.mac }, 'access point unreachable, will retry');
    this.nextRequestAt = Math.max(
      this.nextRequestAt,
      this.now() + backoffDelayMs(upload.unreachableRetries - 1, this.limits.reconnectInitialMs, this.limits.reconnectMaxMs, this.random),
    );
    this.requeue(tag, upload);
  }

  private onUnexpectedError(tag: Tag, upload: Upload, error: unknown): void {
    if (error instanceof OeplProtocolError) this.stats_.protocolErrors++;
    this.log.error({ err: error, mac: tag.mac, version: upload.content.version }, 'upload failed');
    this.fail(upload.content, (error as Error).message ?? String(error), true);
  }

  /**
   * Back into the queue, unless a newer version arrived meanwhile (then this one is superseded) or the same version
   * did (that one goes instead). Offered against the queue alone: the AP may still hold this very version in flight.
   */
  private requeue(tag: Tag, upload: Upload): void {
    const offered = offerSend({ queued: tag.queued }, upload);
    if (offered.outcome === 'duplicate') return;
    if (offered.outcome === 'stale') return this.superseded(offered.superseded);
    if (offered.superseded) this.superseded(offered.superseded);
    tag.queued = upload;
    this.uploadQueue.add(tag.mac);
  }

  private async request(method: 'GET' | 'POST', path: string, form?: URLSearchParams): Promise<{ status: number; body: string }> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${this.limits.requestTimeoutMs} ms`)),
      this.limits.requestTimeoutMs,
    );
    this.requests.add(controller);
    try {
      const response = await fetch(`${this.baseUrl}${path}`, { method, body: form, signal: controller.signal });
      return { status: response.status, body: await readCapped(response, MAX_ANSWER_CHARS) };
    } catch (error) {
      throw new OeplUnreachableError(path, { cause: controller.signal.aborted ? (controller.signal.reason ?? error) : error });
    } finally {
      clearTimeout(timer);
      this.requests.delete(controller);
    }
  }

  // ---- what the AP reports ----

  private onFrame(frame: string): void {
    let message;
    try {
      message = parseOeplMessage(frame);
    } catch (error) {
      this.stats_.protocolErrors++;
      if (this.logThrottle.admit('protocol') >= 0)
        this.log.warn({ err: error, excerpt: (error as OeplProtocolError).excerpt }, 'malformed message from access point');
      return;
    }
    switch (message.kind) {
      case 'tags': {
        const skipped = this.skipAnnounced && message.tags.length === 1 ? message.tags[0] : undefined;
        this.skipAnnounced = false;
        for (const record of message.tags) this.onRecord(record);
        if (skipped) this.onSkippedRender(skipped.mac);
        return;
      }
      case 'legacy-tags':
        this.onLegacySightings(message.sightings);
        this.markUnsupported(this.unsupportedDetail('tag records without updatecount (before 2.60)'));
        return;
      case 'sys': {
        // RUNSTATUS 0 stop, 1 pause, 2 run, 3 init (include/tag_db.h:10-13): `/jsonupload` answers 409 unless run
        // (web.cpp:1024), so the lane waits for "run" instead of spending busy retries on a paused AP
        const wasRunning = this.apRunState === undefined || this.apRunState === AP_RUNSTATUS_RUN;
        this.apRunState = message.runState;
        if (message.currentTimeS !== undefined) this.learnApClock(message.currentTimeS);
        if (!wasRunning && this.apRunState === AP_RUNSTATUS_RUN) this.kick();
        return;
      }
      case 'rebooting':
        this.log.info('access point rebooting');
        this.dropLink('access point rebooting', this.limits.rebootGraceMs);
        return;
      case 'xfer-timeout':
        return this.onXferTimeout(message.mac);
      case 'error':
        if (this.logThrottle.admit('ap-error') >= 0) this.log.debug({ text: message.text.slice(0, 200) }, 'access point error message');
        return;
      case 'log':
        this.skipAnnounced = SAME_IMAGE_LOG.test(message.text);
        return;
      case 'other':
        return;
    }
  }

  /** A check-in the labels room has not heard of yet, placed on our clock. */
  private reportCheckIn(tag: Tag): void {
    const record = tag.record;
    if (!record || record.lastseen <= 0 || record.lastseen <= (tag.reportedLastSeen ?? 0)) return;
    tag.reportedLastSeen = record.lastseen;
    const at = Math.round((record.lastseen - this.apClockOffsetS) * 1000);
    this.emit({ type: 'check-in', labelId: tag.labelId, batteryMv: oeplBattery(record.batteryMv).batteryMv, at });
  }

  private apContentRunning(): boolean {
    return this.apRunState === undefined || this.apRunState === AP_RUNSTATUS_RUN;
  }

  private learnApClock(currentTimeS: number): void {
    const offsetS = currentTimeS - this.now() / 1000;
    const stepS = offsetS - this.apClockOffsetS;
    if (this.apClockLearnedOnce && Math.abs(stepS) > CLOCK_STEP_S) {
      // the AP's clock jumped (rebooted without a time source, NTP or someone set it): uploads in flight were stamped on
      // the old clock; move their submit times with it, or a count done on the new clock never reaches them
      for (const tag of this.tags.values()) {
        if (tag.inFlight) tag.inFlight.submittedAtApS += Math.round(stepS);
        // and the last check-in we reported, or none after it would count as newer
        if (tag.reportedLastSeen !== undefined) tag.reportedLastSeen += Math.round(stepS);
      }
      this.log.info({ stepS: Math.round(stepS) }, 'access point clock stepped');
    }
    const firstOnLink = !this.apClockKnown;
    this.apClockOffsetS = offsetS;
    this.apClockKnown = true;
    this.apClockLearnedOnce = true;
    if (firstOnLink) {
      // the records that came before this heartbeat: their check-ins can be placed now
      for (const tag of this.tags.values()) this.reportCheckIn(tag);
      this.checkIdle();
    }
    if (firstOnLink) this.log.info({ offsetS: Math.round(offsetS) }, 'access point clock learned');
    if (currentTimeS < MIN_VALID_AP_EPOCH_S && !this.apTimeSetOnThisLink) {
      this.apTimeSetOnThisLink = true;
      if (this.setApTime) void this.sendApTime();
      else {
        const advice = 'access point has no time (no NTP): labels work, its own times are wrong; set setTime or give it NTP';
        this.log.warn({ currtime: currentTimeS }, advice);
      }
    }
    this.kick();
  }

  /** `POST /set_time` (web.cpp:692-710); the AP answers with a heartbeat at once, which we then read. */
  private async sendApTime(): Promise<void> {
    const epochS = Math.floor(this.now() / 1000);
    const form = new URLSearchParams({ epoch: String(epochS) });
    const answer = await this.request('POST', '/set_time', form).catch((error: unknown) => error as Error);
    if (answer instanceof Error || answer.status !== 200) {
      const detail = answer instanceof Error ? answer.message : `${answer.status} "${answer.body.slice(0, 80)}"`;
      this.log.warn({ detail }, 'setting the access point clock failed');
    }
  }

  private onRecord(record: OeplTagRecord): void {
    if (this.configuredMacs && !this.configuredMacs.has(record.mac)) return; // a tag store IT did not give this driver
    const tag = this.tags.get(record.mac) ?? this.tagFor(record.mac, record.mac);
    if (!tag) return;
    tag.record = record;
    tag.recordAt = this.now();
    // a check-in's time is on the AP's clock: until this connection's first heartbeat it waits (learnApClock)
    if (this.apClockKnown) this.reportCheckIn(tag);
    if (tag.flashSinceApS !== undefined && record.pending === 0 && record.lastseen >= tag.flashSinceApS) {
      tag.flashSinceApS = undefined;
      tag.flashesOutstanding = 0;
    }
    if (tag.lastConfirmed && record.hash !== tag.lastConfirmed.hash) tag.lastConfirmed = undefined; // someone else drew on it
    const inFlight = tag.inFlight;
    if (inFlight && confirmsSubmission(inFlight, record)) {
      this.endInFlight(tag);
      this.confirm(tag, inFlight.content);
    }
  }

  /** The AP rendered what we uploaded and found the tag shows exactly that: shown, though `updatecount` never moves. */
  private onSkippedRender(mac: string): void {
    const tag = this.tags.get(mac);
    const inFlight = tag?.inFlight;
    if (!tag || !inFlight || (tag.record?.pending ?? 0) > 0) return;
    this.stats_.skippedIdentical++;
    this.endInFlight(tag);
    this.confirm(tag, inFlight.content);
  }

  /** `tag_cmd refresh` (newproto.cpp:694-700): md5 zeroed and redrawn, so the transfer happens and is counted. */
  private async forceRender(tag: Tag, inFlight: InFlight): Promise<void> {
    inFlight.refreshed = true;
    const form = new URLSearchParams({ mac: tag.mac, cmd: 'refresh' });
    const answer = await this.request('POST', '/tag_cmd', form).catch((error: unknown) => error as Error);
    if (answer instanceof Error || answer.status !== 200) {
      const detail = answer instanceof Error ? answer.message : `${answer.status} "${answer.body.slice(0, 80)}"`;
      if (this.logThrottle.admit('refresh-failed') >= 0) this.log.warn({ mac: tag.mac, detail }, 'forcing a render failed');
    }
  }

  private onXferTimeout(mac: string): void {
    this.stats_.xferTimeouts++;
    const tag = this.tags.get(mac);
    const inFlight = tag?.inFlight;
    if (tag) [tag.flashSinceApS, tag.flashesOutstanding] = [undefined, 0]; // the AP dropped the tag's whole queue, LED commands included
    if (!tag || !inFlight) return;
    this.endInFlight(tag);
    const upload: Upload = {
      content: inFlight.content,
      key: inFlight.key,
      busyRetries: 0,
      unreachableRetries: 0,
      resends: inFlight.resends + 1,
    };
    if (upload.resends > this.limits.maxXferResends) return this.fail(upload.content, `xfer timeout ${upload.resends} times`, true);
    this.log.debug({ mac, version: upload.content.version, resend: upload.resends }, 'xfer timeout, uploading again');
    this.requeue(tag, upload);
    this.kick();
  }

  /** The confirm timer: not seen since the upload → `waiting`; transfer under way → later; else failed. */
  private checkInFlight(mac: string): void {
    const tag = this.tags.get(mac);
    const inFlight = tag?.inFlight;
    if (!tag || !inFlight || !this.running) return;
    const rearm = () => (inFlight.timer = setTimeout(() => this.checkInFlight(mac), this.limits.confirmTimeoutMs));
    if (!seenSinceSubmission(inFlight, tag.record)) {
      if (!inFlight.waitingReported)
        this.emit({ type: 'waiting', labelId: inFlight.content.labelId, version: inFlight.content.version, at: this.now() });
      inFlight.waitingReported = true;
      this.waitingMacs.add(mac);
      rearm();
      this.checkIdle();
      return;
    }
    if ((tag.record?.pending ?? 0) > 0 && ++inFlight.checks < MAX_PENDING_CHECKS) {
      rearm();
      return;
    }
    if ((tag.record?.pending ?? 0) === 0 && (tag.record?.updatecount ?? 0) <= inFlight.baselineUpdateCount && !inFlight.refreshed) {
      // seen, nothing queued, nothing counted: the AP skipped the render as identical and we missed its word (a frame
      // lost, the link down at the time). Force the render once; its transfer confirms as any other.
      void this.forceRender(tag, inFlight);
      rearm();
      return;
    }
    this.endInFlight(tag);
    this.fail(inFlight.content, 'not shown: the tag checked in but the update did not arrive', true);
  }

  private endInFlight(tag: Tag): void {
    if (tag.inFlight) {
      clearTimeout(tag.inFlight.timer);
      this.inFlightCount--;
      this.waitingMacs.delete(tag.mac);
    }
    tag.inFlight = undefined;
    if (this.inFlightCount === 0) this.checkIdle();
  }

  private confirm(tag: Tag, content: LabelContent): void {
    tag.lastConfirmed = tag.record ? { key: this.contentKey(tag, content), hash: tag.record.hash } : undefined;
    this.stats_.confirmed++;
    this.emit({
      type: 'confirmed',
      labelId: content.labelId,
      version: content.version,
      displayedPriceCents: content.priceCents,
      at: this.now(),
    });
  }

  /** The drawing commands for the tag's size (`hwType`), as the JSON we upload; equal keys render equal images. */
  private contentKey(tag: Tag, content: LabelContent): string {
    return oeplContentKey(content, oeplCanvas(tag.record?.hwType));
  }

  private fail(content: LabelContent, reason: string, retryable: boolean): void {
    this.stats_.failed++;
    this.emit({ type: 'failed', labelId: content.labelId, version: content.version, reason, retryable, at: this.now() });
  }

  /** A newer version replaced this one: sending it again would not help. */
  private superseded({ content, by }: Superseded): void {
    this.fail(content, `superseded by version ${by}`, false);
  }

  private emit(event: LabelDriverEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        if (this.logThrottle.admit('listener') >= 0) this.log.error({ err: error, event: event.type }, 'label event listener threw');
      }
    }
  }

  /** The tag's entry, made if needed; past `maxTrackedTags` the oldest idle tag is forgotten (undefined if none is idle). */
  private tagFor(mac: string, labelId: string): Tag | undefined {
    const known = this.tags.get(mac);
    if (known) return known;
    if (this.tags.size >= this.limits.maxTrackedTags) {
      let evicted = false;
      for (const [oldMac, old] of this.tags) {
        if (!old.queued && !old.inFlight) {
          this.tags.delete(oldMac);
          evicted = true;
          break;
        }
      }
      if (!evicted) return undefined;
    }
    const tag: Tag = { mac, labelId, flashesOutstanding: 0 };
    this.tags.set(mac, tag);
    return tag;
  }

  private apNowS(): number {
    // one second of slack: `currtime` and `updatelast` are whole seconds, so our estimate of the AP's clock may run ahead
    return Math.floor(this.now() / 1000 + this.apClockOffsetS) - 1;
  }

  // ---- the websocket link ----

  private connect(): void {
    if (!this.running || this.unsupported) return;
    const url = `${this.baseUrl.replace(/^http/, 'ws')}/ws`;
    const socket = new WebSocket(url, { handshakeTimeout: this.limits.requestTimeoutMs, maxPayload: 4 * MAX_ANSWER_CHARS });
    this.socket = socket;
    socket.on('open', () => {
      if (this.socket !== socket) return;
      this.reconnectAttempt = 0;
      this.socketOpen = true;
      this.socketOpenedAt = this.now();
      // a new connection may be to a rebooted AP: its clock is learned again from the next heartbeat before any upload
      this.apClockKnown = false;
      this.apRunState = undefined;
      this.apTimeSetOnThisLink = false;
      // a reconnect may be to an AP updated (or downgraded) meanwhile
      void this.checkFirmware();
      this.armHeartbeat();
      this.setLink(true, 'connected');
      this.kick();
    });
    socket.on('message', (data, isBinary) => {
      if (this.socket !== socket) return;
      this.armHeartbeat();
      if (isBinary) {
        this.stats_.protocolErrors++;
        return;
      }
      this.onFrame(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    });
    socket.on('error', (error) => {
      if (this.logThrottle.admit('socket-error') >= 0) this.log.warn({ err: error, url }, 'access point websocket error');
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.dropLink(this.linkUp ? 'connection lost' : 'connect failed', 0);
    });
  }

  // ---- firmware range ----

  /** `GET /sysinfo` (ota.cpp:38-48): `buildversion` below 2.60 cannot be driven. Unreadable: the tag records decide. */
  private async checkFirmware(): Promise<void> {
    const answer = await this.request('GET', '/sysinfo').catch((error: unknown) => error as Error);
    if (answer instanceof Error || answer.status !== 200) return;
    let buildVersion: unknown;
    try {
      buildVersion = (JSON.parse(answer.body) as { buildversion?: unknown }).buildversion;
    } catch {
      return;
    }
    if (typeof buildVersion !== 'string') return;
    const firmware = oeplFirmware(buildVersion);
    this.firmwareVersion = firmware.version;
    if (firmware.supported === false) {
      this.markUnsupported(this.unsupportedDetail());
    } else if (this.unsupported && firmware.supported) this.resumeSupported(firmware.version);
  }

  /**
   * What store IT reads: the firmware's version when /sysinfo named one too old, whichever check noticed first (the tag
   * records and /sysinfo race at every connection; the text must not depend on which won); else what was seen.
   */
  private unsupportedDetail(seen?: string): string {
    const version = this.firmwareVersion;
    if (version !== undefined && oeplFirmware(version).supported === false)
      return `unsupported firmware ${version}: ${OEPL_SUPPORTED_FIRMWARE_TEXT} needed`;
    return `unsupported firmware: ${seen ?? 'unknown'}; ${OEPL_SUPPORTED_FIRMWARE_TEXT} needed`;
  }

  /** Stop driving this AP: link down with the reason, queued and in-flight sends failed (not retryable), re-check later. */
  private markUnsupported(detail: string): void {
    if (this.unsupported === detail || !this.running) return;
    this.unsupported = detail;
    this.log.error({ firmware: this.firmwareVersion ?? 'unknown', detail }, 'access point firmware not supported, not driving it');
    for (const timer of [this.reconnectTimer, this.heartbeatTimer, this.idleTimer, this.pollTimer]) clearTimeout(timer);
    this.idleTimer = undefined;
    this.socketOpen = false;
    const socket = this.socket;
    this.socket = undefined;
    socket?.terminate();
    for (const mac of this.uploadQueue) {
      const tag = this.tags.get(mac);
      if (tag?.queued) this.fail(tag.queued.content, detail, false);
      if (tag) tag.queued = undefined;
    }
    this.uploadQueue.clear();
    this.flashQueue.clear();
    for (const tag of this.tags.values()) {
      const inFlight = tag.inFlight;
      if (!inFlight) continue;
      this.endInFlight(tag);
      this.fail(inFlight.content, detail, false);
    }
    this.setLink(false, detail);
    // no websocket (it would keep the tags awake for nothing); the tag table is still polled for sightings
    this.idle = true;
    this.linkDetail = detail;
    this.schedulePoll();
    clearTimeout(this.firmwareTimer);
    this.firmwareTimer = setTimeout(() => void this.recheckFirmware(), this.limits.firmwareRecheckMs);
  }

  private async recheckFirmware(): Promise<void> {
    if (!this.running || !this.unsupported) return;
    await this.checkFirmware();
    if (this.running && this.unsupported) this.firmwareTimer = setTimeout(() => void this.recheckFirmware(), this.limits.firmwareRecheckMs);
  }

  private resumeSupported(version: string): void {
    this.log.info({ firmware: version }, 'access point firmware now supported, driving it');
    this.unsupported = undefined;
    clearTimeout(this.firmwareTimer);
    this.idle = false;
    this.connect();
  }

  // ---- holding the websocket only while something is in flight ----

  private wantsSocket(): boolean {
    const awaited = this.inFlightCount - this.waitingMacs.size;
    return this.uploadQueue.size > 0 || this.flashQueue.size > 0 || awaited > 0 || this.pumping !== undefined;
  }

  /** Work arrived while idle: open the websocket again (uploads wait for its first heartbeat). */
  private wake(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.idle || !this.running) return;
    this.idle = false;
    clearTimeout(this.pollTimer);
    this.linkDetail = 'connecting';
    this.connect();
  }

  /** Nothing in flight: close the websocket after `idleCloseMs` of that, so the AP lets the tags sleep. */
  private checkIdle(): void {
    if (!this.running || this.idle || !this.socketOpen || this.idleTimer || this.wantsSocket()) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.running || this.idle || !this.socketOpen || this.wantsSocket()) return;
      this.stats_.idleCloses++;
      this.idle = true;
      this.socketOpen = false;
      clearTimeout(this.heartbeatTimer);
      const socket = this.socket;
      this.socket = undefined; // its close event is ours, not a lost link
      socket?.close(1000, 'idle');
      this.linkDetail = 'idle: websocket closed so tags can sleep, polling /get_db';
      this.log.debug('nothing in flight, websocket closed');
      this.schedulePoll();
    }, this.limits.idleCloseMs);
  }

  private schedulePoll(): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), this.limits.idlePollMs);
  }

  /** `GET /get_db?pos=` page by page: what the tags reported while we were not listening. */
  private async poll(): Promise<void> {
    if (!this.running || !this.idle) return;
    this.stats_.polls++;
    let position = 0;
    try {
      for (let page = 0; page < this.limits.maxPollPages && this.idle; page++) {
        const path = `/get_db?pos=${position}`;
        const answer = await this.request('GET', path);
        if (answer.status !== 200) throw new OeplUnexpectedAnswerError(path, answer.status, answer.body);
        const message = parseOeplMessage(answer.body);
        if (message.kind === 'legacy-tags') {
          // still worth reading: the labels' check-ins and batteries, shown beside "unsupported firmware"
          this.onLegacySightings(message.sightings);
          if (!this.unsupported) throw new OeplUnsupportedFirmwareError('tag records without updatecount (before 2.60)');
        } else if (message.kind !== 'tags') {
          throw new OeplProtocolError(`expected a tags answer, got ${message.kind}`, answer.body.slice(0, 120));
        } else for (const record of message.tags) this.onRecord(record);
        // the firmware's position is 8 bits: a `continu` that does not move forward has wrapped
        if (message.continu === undefined || message.continu <= position) break;
        position = message.continu;
      }
      // uploads waiting for a tag that does not check in: its record, one by one (bounded)
      let lookUps = 0;
      for (const mac of this.unsupported ? [] : this.waitingMacs) {
        if (!this.idle || lookUps++ >= this.limits.maxPollLookups) break;
        const path = `/get_db?mac=${mac}`;
        const answer = await this.request('GET', path);
        if (answer.status !== 200) throw new OeplUnexpectedAnswerError(path, answer.status, answer.body, mac);
        for (const record of parseOeplTagsAnswer(answer.body)) this.onRecord(record);
      }
      if (this.idle && !this.unsupported) this.setLink(true, this.linkDetail);
    } catch (error) {
      if (error instanceof OeplUnsupportedFirmwareError) {
        return this.markUnsupported(this.unsupportedDetail(error.detail));
      }
      if (error instanceof OeplProtocolError) this.stats_.protocolErrors++;
      if (this.logThrottle.admit('poll') >= 0) this.log.warn({ err: error }, 'polling the access point failed');
      if (this.idle) this.setLink(false, `poll failed: ${(error as Error).message.slice(0, 120)}`);
    }
    if (this.running && this.idle) this.schedulePoll();
  }

  /** Check-ins from an AP whose records we cannot confirm against: the labels are there, their batteries are real. */
  private onLegacySightings(sightings: readonly { mac: string; lastseen: number; batteryMv: number }[]): void {
    for (const sighting of sightings) {
      if (this.configuredMacs && !this.configuredMacs.has(sighting.mac)) continue;
      const tag = this.tags.get(sighting.mac) ?? this.tagFor(sighting.mac, sighting.mac);
      if (!tag || sighting.lastseen <= 0 || (tag.legacyLastSeen ?? 0) >= sighting.lastseen) continue;
      tag.legacyLastSeen = sighting.lastseen;
      const at = this.apClockKnown ? Math.round((sighting.lastseen - this.apClockOffsetS) * 1000) : this.now();
      this.emit({ type: 'check-in', labelId: tag.labelId, batteryMv: oeplBattery(sighting.batteryMv).batteryMv, at });
    }
  }

  /** Link down; reconnect after backoff with jitter (at least `minDelayMs`). */
  private dropLink(detail: string, minDelayMs: number): void {
    this.socketOpen = false;
    clearTimeout(this.heartbeatTimer);
    const socket = this.socket;
    this.socket = undefined;
    socket?.terminate();
    this.setLink(false, detail);
    if (!this.running) return;
    clearTimeout(this.reconnectTimer);
    const delayMs = Math.max(
      minDelayMs,
      backoffDelayMs(this.reconnectAttempt++, this.limits.reconnectInitialMs, this.limits.reconnectMaxMs, this.random),
    );
    this.reconnectTimer = setTimeout(() => {
      this.stats_.reconnects++;
      this.connect();
    }, delayMs);
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.log.warn({ silentMs: this.limits.heartbeatTimeoutMs }, 'access point silent, reconnecting');
      this.dropLink('no heartbeat', 0);
    }, this.limits.heartbeatTimeoutMs);
  }

  private setLink(up: boolean, detail: string): void {
    this.linkDetail = detail;
    if (this.linkUp === up) return;
    this.linkUp = up;
    this.log.info({ up, detail }, up ? 'access point link up' : 'access point link down');
    this.emit({ type: 'link', up, detail, at: this.now() });
  }
}

/** The AP is untrusted: read at most `maxChars` of an answer, cancel the rest. */
async function readCapped(response: Response, maxChars: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.length >= maxChars) {
      await reader.cancel();
      return text.slice(0, maxChars);
    }
  }
  return text + decoder.decode();
}
