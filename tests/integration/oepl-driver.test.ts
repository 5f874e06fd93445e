/**
 * The OpenEPaperLink driver against the simulated AP over real HTTP and websocket: what the driver reports must be
 * what the simulated tags show.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OeplApSimulator, type OeplApSimulatorOptions } from '../../devices/oepl-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import type { LabelContent, LabelDriverEvent } from '../../edge/labels/label-driver.js';
import { configDefaults } from '../../edge/core/schema-defaults.js';
import { OeplDriverLimitsSchema } from '../../edge/labels/label-driver-limits.js';
import { OeplDriver, type OeplDriverLimits } from '../../edge/labels/oepl-driver.js';
import { oeplCanvas } from '../../edge/labels/oepl-layout.js';
import { formatPrice, oeplPriceCommands } from '../../edge/labels/oepl-rules.js';

const log = pino({ level: 'silent' });
const running: { stop(): Promise<void> }[] = [];

afterEach(async () => {
  for (const part of running.splice(0).reverse()) await part.stop();
});

const FAST_LIMITS: Partial<OeplDriverLimits> = {
  requestsPerSecond: 400,
  requestTimeoutMs: 2_000,
  busyPauseMs: 20,
  reconnectInitialMs: 50,
  reconnectMaxMs: 400,
  rebootGraceMs: 100,
  confirmTimeoutMs: 4_000,
  heartbeatTimeoutMs: 2_000,
  maxUnreachableRetries: 20,
};

async function startPair(
  simOptions: Partial<OeplApSimulatorOptions> = {},
  limits: Partial<OeplDriverLimits> = {},
  waitForLink = true,
  setApTime = false,
) {
  const sim = new OeplApSimulator({
    tagCount: 5,
    logger: log,
    random: seededRandom(42),
    checkInIntervalMs: 250,
    renderDelayMs: 20,
    sysIntervalMs: 100,
    bootDelayMs: 50,
    rebootDelayMs: 100,
    rebootDownMs: 300,
    ...simOptions,
  });
  await sim.start();
  running.push(sim);
  await until(() => sim.isRunning); // while it boots the AP answers 409 to uploads
  const driver = new OeplDriver({
    baseUrl: sim.url,
    log,
    random: seededRandom(1),
    setApTime,
    limits: { ...configDefaults(OeplDriverLimitsSchema), ...FAST_LIMITS, ...limits },
  });
  const events: LabelDriverEvent[] = [];
  driver.onEvent((event) => events.push(event));
  await driver.start();
  running.push(driver);
  if (waitForLink) await until(() => driver.isLinkUp);
  return { sim, driver, events };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const content = (labelId: string, version: number, priceCents: number): LabelContent => ({
  labelId,
  version,
  sku: `SKU-${labelId.slice(-4)}`,
  productName: 'Iced tea peach 1.5 l',
  priceCents,
});
const endsOf = (events: LabelDriverEvent[], labelId: string) =>
  events.filter((event) => (event.type === 'confirmed' || event.type === 'failed') && event.labelId === labelId);

describe('OeplDriver against the simulated OpenEPaperLink AP', () => {
  it('200 tags, 10 % of uploads hitting faults and a reboot mid-run: every send ends once, confirmed ones are shown', async () => {
    const { sim, driver, events } = await startPair(
      { tagCount: 200, virtualTagCount: 10, faults: { busyProbability: 0.05, xferTimeoutProbability: 0.05 } },
      { requestsPerSecond: 150 },
    );
    sim.macs.forEach((mac, index) => driver.send(content(mac, 1, 100 + index)));
    await until(() => sim.stats.uploads >= 60);
    await sim.reboot();
    await until(() => sim.macs.every((mac) => endsOf(events, mac).length > 0), 30_000);

    for (const [index, mac] of sim.macs.entries()) {
      const ends = endsOf(events, mac);
      expect(ends, mac).toHaveLength(1);
      const end = ends[0]!;
      if (end.type === 'confirmed') expect(sim.tag(mac)!.displayedJson, mac).toContain(`"${formatPrice(100 + index)}"`);
      else expect(end.type === 'failed' && end.reason.length > 0).toBe(true);
    }
    const confirmed = events.filter((event) => event.type === 'confirmed').length;
    expect(confirmed).toBeGreaterThanOrEqual(190);
    expect(sim.stats.busyAnswers + sim.stats.xferTimeouts).toBeGreaterThanOrEqual(10); // about 10 % of uploads hit a fault
    // the driver hears of a timeout only while connected; one it missed ends by the confirm timer
    expect(driver.stats.xferTimeouts).toBeGreaterThan(0);
    expect(driver.stats.xferTimeouts).toBeLessThanOrEqual(sim.stats.xferTimeouts);
    // link down for the reboot and up again
    const links = events.filter((event) => event.type === 'link').map((event) => event.type === 'link' && [event.up, event.detail]);
    expect(links).toEqual([
      [true, 'connected'],
      [false, 'access point rebooting'],
      [true, 'connected'],
    ]);
    // check-ins carry the battery; the AP's virtual tags (1337 mV) have none
    const checkIns = events.filter((event): event is Extract<LabelDriverEvent, { type: 'check-in' }> => event.type === 'check-in');
    expect(checkIns.find((event) => event.labelId === sim.macs[0])?.batteryMv).toBeNull();
    expect(checkIns.find((event) => event.labelId === sim.macs[20])?.batteryMv).toBeGreaterThanOrEqual(2_000);
  }, 40_000);

  it('re-sends after an xfer timeout and confirms the re-sent upload', async () => {
    const { sim, driver, events } = await startPair();
    const mac = sim.macs[0]!;
    sim.failNextTransfer(mac);
    driver.send(content(mac, 1, 349));
    await until(() => endsOf(events, mac).length > 0);
    expect(endsOf(events, mac)[0]).toMatchObject({ type: 'confirmed', version: 1, displayedPriceCents: 349 });
    expect(sim.stats.xferTimeouts).toBe(1);
    expect(sim.stats.uploads).toBe(2);
  });

  it('confirms identical content without a new upload or updatecount', async () => {
    const { sim, driver, events } = await startPair();
    const mac = sim.macs[1]!;
    driver.send(content(mac, 1, 250));
    await until(() => endsOf(events, mac).length === 1);
    const before = { ...sim.tag(mac)!, uploads: sim.stats.uploads };
    expect(before.updatecount).toBe(1);
    driver.send(content(mac, 2, 250));
    await until(() => endsOf(events, mac).length === 2);
    expect(endsOf(events, mac)[1]).toMatchObject({ type: 'confirmed', version: 2 });
    expect(sim.tag(mac)!.updatecount).toBe(before.updatecount);
    expect(sim.stats.uploads).toBe(before.uploads);
    expect(driver.stats.skippedIdentical).toBe(1);
  });

  it('fails an unknown mac with "mac not found", not retryable', async () => {
    const { driver, events } = await startPair();
    driver.send(content('0000FFFFFFFFFFFF', 1, 100));
    driver.send(content('esl-07', 1, 100));
    await until(() => events.filter((event) => event.type === 'failed').length === 2);
    expect(endsOf(events, '0000FFFFFFFFFFFF')).toEqual([
      expect.objectContaining({ type: 'failed', reason: 'mac not found', retryable: false }),
    ]);
    expect(endsOf(events, 'esl-07')[0]).toMatchObject({ type: 'failed', retryable: false });
  });

  it('a newer version supersedes an older one in flight; the label shows the newer price', async () => {
    const { sim, driver, events } = await startPair();
    const mac = sim.macs[2]!;
    sim.setTagReachable(mac, false); // so version 1 cannot be shown before version 2 is sent
    driver.send(content(mac, 1, 111));
    await until(() => sim.stats.uploads === 1 && sim.tag(mac)!.pending === 1);
    driver.send(content(mac, 2, 222));
    await until(() => sim.stats.uploads === 2);
    sim.setTagReachable(mac, true);
    await until(() => endsOf(events, mac).length === 2);
    expect(endsOf(events, mac)).toEqual([
      expect.objectContaining({ type: 'failed', version: 1, reason: 'superseded by version 2', retryable: false }),
      expect.objectContaining({ type: 'confirmed', version: 2 }),
    ]);
    expect(sim.tag(mac)!.displayedJson).toContain('"2.22"');
  });

  it('reports waiting for a tag not seen since the upload, then confirmed when it checks in', async () => {
    const { sim, driver, events } = await startPair({}, { confirmTimeoutMs: 400 });
    const mac = sim.macs[3]!;
    sim.setTagReachable(mac, false);
    driver.send(content(mac, 1, 499));
    await until(() => events.some((event) => event.type === 'waiting' && event.labelId === mac));
    expect(endsOf(events, mac)).toEqual([]);
    sim.setTagReachable(mac, true);
    await until(() => endsOf(events, mac).length === 1);
    expect(endsOf(events, mac)[0]).toMatchObject({ type: 'confirmed', version: 1 });
  });

  it('retries 409 busy answers, and fails with the reason when the AP stays busy', async () => {
    const { sim, driver, events } = await startPair({}, { maxBusyRetries: 2 });
    const [first, second] = [sim.macs[0]!, sim.macs[1]!];
    sim.failNextUploads(2);
    driver.send(content(first, 1, 100));
    await until(() => endsOf(events, first).length === 1);
    expect(endsOf(events, first)[0]).toMatchObject({ type: 'confirmed', version: 1 });
    sim.failNextUploads(3);
    driver.send(content(second, 1, 100));
    await until(() => endsOf(events, second).length === 1);
    expect(endsOf(events, second)[0]).toMatchObject({ type: 'failed', retryable: true, reason: expect.stringContaining('409') as string });
    expect(driver.stats.busyAnswers).toBe(5);
  });

  it('flashes the LED through /tag_cmd at the next check-in', async () => {
    const { sim, driver } = await startPair();
    const mac = sim.macs[4]!;
    driver.flash(mac, 'find');
    await until(() => sim.tag(mac)!.ledFlashes === 1);
    expect(sim.tag(mac)!.lastLedCommand).toBe('ledflash_long');
    driver.flash(mac, 'stop');
    await until(() => sim.tag(mac)!.ledFlashes === 2);
    expect(sim.tag(mac)!.lastLedCommand).toBe('ledflash_stop');
  });

  it('skips malformed frames, counts them, and keeps working', async () => {
    const { sim, driver, events } = await startPair();
    sim.injectFrame('{"tags":[{"mac":"zz"}]}');
    sim.injectFrame('not json at all');
    sim.injectFrame('[]');
    await until(() => driver.stats.protocolErrors === 3);
    const mac = sim.macs[0]!;
    driver.send(content(mac, 1, 120));
    await until(() => endsOf(events, mac).length === 1);
    expect(endsOf(events, mac)[0]).toMatchObject({ type: 'confirmed' });
    expect(driver.isLinkUp).toBe(true);
  });

  it('reconnects when the AP is gone and comes back, reporting the link both ways', async () => {
    const { sim, driver, events } = await startPair();
    await sim.stop();
    await until(() => !driver.isLinkUp);
    await sim.start();
    await until(() => driver.isLinkUp);
    const links = events.filter((event) => event.type === 'link').map((event) => event.type === 'link' && event.up);
    expect(links).toEqual([true, false, true]);
    expect(driver.health()).toMatchObject({ ok: true, link: 'up' });
  });

  it('waits while the AP pauses content generation (RUNSTATUS 1) instead of spending busy retries, then uploads', async () => {
    const { sim, driver, events } = await startPair();
    sim.pauseContent(600);
    await until(() => driver.health().runState === 1);
    const mac = sim.macs[0]!;
    driver.send(content(mac, 1, 250));
    await until(() => endsOf(events, mac).length === 1);
    expect(endsOf(events, mac)[0]).toMatchObject({ type: 'confirmed' });
    expect(driver.stats.busyAnswers).toBe(0);
    expect(driver.health().runState).toBe(2);
  });

  describe('the AP keeps its own clock', () => {
    for (const offsetH of [-1, 1]) {
      const apClock = offsetH > 0 ? 'an hour ahead' : 'an hour behind';
      it(`confirms uploads made at start-up, before the first heartbeat, on an AP ${apClock}`, async () => {
        // heartbeats every 800 ms: the sends below are made before the first one, as a campaign resumed at start-up
        const { sim, driver, events } = await startPair({ clockOffsetMs: offsetH * 3_600_000, sysIntervalMs: 800 }, {}, false);
        sim.macs.forEach((mac, index) => driver.send(content(mac, 1, 200 + index)));
        await until(() => sim.macs.every((mac) => endsOf(events, mac).length === 1));
        for (const mac of sim.macs) expect(endsOf(events, mac)[0], mac).toMatchObject({ type: 'confirmed' });
        // check-ins are reported on our clock, not the AP's
        await until(() => events.some((event) => event.type === 'check-in'));
        const checkIn = events.find((event) => event.type === 'check-in')!;
        expect(Math.abs(checkIn.at - Date.now())).toBeLessThan(60_000);
      });
    }

    it('an AP without time that reboots mid-upload (its clock back at 1970) still confirms', async () => {
      const { sim, driver, events } = await startPair({ noTime: true });
      const mac = sim.macs[0]!;
      sim.setTagReachable(mac, false);
      driver.send(content(mac, 1, 777));
      await until(() => sim.tag(mac)!.pending === 1);
      await sim.reboot();
      sim.setTagReachable(mac, true);
      await until(() => endsOf(events, mac).length === 1);
      expect(endsOf(events, mac)[0]).toMatchObject({ type: 'confirmed' });
      expect(sim.tag(mac)!.displayedJson).toContain('"7.77"');
      expect(sim.tag(mac)!.updatelast).toBeLessThan(1_000_000); // counted on the 1970 clock
    });

    it('with setApTime, sets the clock of an AP without time (POST /set_time)', async () => {
      const { sim } = await startPair({ noTime: true }, {}, true, true);
      await until(() => Math.abs(sim.apNowMs() - Date.now()) < 2_000);
    });
  });

  describe('content the tag already shows (a fresh database, a label never driven before)', () => {
    async function showDirectly(sim: OeplApSimulator, mac: string, priceCents: number): Promise<void> {
      // what the driver would upload for this content, put there by someone else (an earlier gateway, a restored backup)
      const json = JSON.stringify(oeplPriceCommands(content(mac, 1, priceCents)));
      const answer = await fetch(`${sim.url}/jsonupload`, { method: 'POST', body: new URLSearchParams({ mac, json }) });
      expect(answer.status).toBe(200);
      await until(() => sim.tag(mac)!.updatecount === 1);
      // times are whole seconds with a second of slack: a transfer in the second before our upload would count for it
      await until(() => Date.now() / 1000 - sim.tag(mac)!.updatelast >= 2.5);
    }

    it('recognises the AP skipping the identical render and confirms without another transfer', async () => {
      const { sim, driver, events } = await startPair();
      const mac = sim.macs[1]!;
      await showDirectly(sim, mac, 349);
      driver.send(content(mac, 1, 349));
      await until(() => endsOf(events, mac).length === 1);
      expect(endsOf(events, mac)[0]).toMatchObject({ type: 'confirmed', displayedPriceCents: 349 });
      expect(sim.stats).toMatchObject({ skippedRenders: 1, transfers: 1, refreshes: 0 });
      expect(sim.tag(mac)!.updatecount).toBe(1);
    });

    it('when the skip notice is lost, forces the render with tag_cmd refresh and confirms the transfer', async () => {
      const { sim, driver, events } = await startPair({ faults: { lostLogFrames: true } }, { confirmTimeoutMs: 800 });
      const mac = sim.macs[2]!;
      await showDirectly(sim, mac, 555);
      driver.send(content(mac, 1, 555));
      await until(() => endsOf(events, mac).length === 1);
      expect(endsOf(events, mac)[0]).toMatchObject({ type: 'confirmed', displayedPriceCents: 555 });
      expect(sim.stats).toMatchObject({ skippedRenders: 1, refreshes: 1 });
      expect(sim.tag(mac)!.updatecount).toBe(2);
    });
  });

  describe('battery: the AP keeps tags awake while any websocket client is connected (stopsleep 1)', () => {
    // tags check in every 100 ms while the AP lets them stay awake, else sleep 3 s (the firmware: ~1 min vs maxsleep 10 min)
    const firmwareLike: Partial<OeplApSimulatorOptions> = { checkInIntervalMs: 100, maxSleepMs: 3_000, stopsleep: 1 };
    const idleLimits: Partial<OeplDriverLimits> = { idleCloseMs: 300, idlePollMs: 400, heartbeatTimeoutMs: 5_000 };

    it('holds the websocket only while sends are in flight, then lets the tags sleep and polls /get_db', async () => {
      const { sim, driver, events } = await startPair(firmwareLike, idleLimits);
      sim.macs.forEach((mac, index) => driver.send(content(mac, 1, 300 + index)));
      await until(() => sim.macs.every((mac) => endsOf(events, mac).length === 1));
      expect(events.filter((event) => event.type === 'confirmed')).toHaveLength(sim.macs.length);

      await until(() => driver.stats.idleCloses === 1 && sim.watchers === 0);
      const idleSince = Date.now();
      const wakeupsAtIdle = sim.stats.wakeups;
      const pollsAtIdle = driver.stats.polls;
      await until(() => driver.stats.polls >= pollsAtIdle + 5); // about 2 s unwatched
      const windowMs = Date.now() - idleSince;
      const wakeups = sim.stats.wakeups - wakeupsAtIdle;
      // asleep: each tag wakes about once per 3 s (its last awake check-in may still fall in); awake it would be every 100 ms
      expect(wakeups).toBeLessThanOrEqual(sim.macs.length * (Math.ceil(windowMs / 3_000) + 1));
      expect(wakeups).toBeLessThan((sim.macs.length * windowMs) / 100 / 4);
      expect(driver.isLinkUp).toBe(true);
      expect(driver.health()).toMatchObject({ ok: true, detail: expect.stringContaining('idle') as string });

      // sightings still arrive through the polls, and a new price opens the websocket again
      await until(() => events.some((event) => event.type === 'check-in' && event.at >= idleSince + 500), 10_000);
      const mac = sim.macs[0]!;
      driver.send(content(mac, 2, 999));
      await until(() => endsOf(events, mac).length === 2, 15_000);
      expect(endsOf(events, mac)[1]).toMatchObject({ type: 'confirmed', displayedPriceCents: 999 });
      expect(sim.tag(mac)!.displayedJson).toContain('"9.99"');
    });

    it('a tag that does not check in does not keep the others awake: waiting, websocket closed, confirmed by polling', async () => {
      const { sim, driver, events } = await startPair(firmwareLike, { ...idleLimits, confirmTimeoutMs: 500 });
      const mac = sim.macs[3]!;
      sim.setTagReachable(mac, false);
      // times are whole seconds with a second of slack: a check-in in the second before the upload counts as after it
      await until(() => Date.now() / 1000 - sim.tag(mac)!.lastseen >= 2.5);
      driver.send(content(mac, 1, 410));
      await until(() => events.some((event) => event.type === 'waiting' && event.labelId === mac));
      await until(() => driver.stats.idleCloses >= 1 && sim.watchers === 0);
      sim.setTagReachable(mac, true);
      await until(() => endsOf(events, mac).length === 1, 15_000);
      expect(endsOf(events, mac)[0]).toMatchObject({ type: 'confirmed', displayedPriceCents: 410 });
      expect(sim.watchers).toBe(0); // confirmed without the websocket
    });
  });

  describe('firmware range', () => {
    it('an AP before 2.60 is "unsupported firmware": link down with the reason, sends fail at once, check-ins still shown', async () => {
      const { sim, driver, events } = await startPair({ buildVersion: '2.55' }, { idlePollMs: 200 }, false);
      // the tag records and /sysinfo race at every connection: the text names the version once /sysinfo has answered
      await until(() => driver.firmware.unsupported !== undefined && driver.firmware.version !== undefined);
      expect(driver.firmware).toMatchObject({ unsupported: 'unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed' });
      expect(driver.health()).toMatchObject({ ok: false, link: 'down', detail: expect.stringContaining('unsupported firmware') as string });
      const mac = sim.macs[0]!;
      driver.send(content(mac, 1, 100));
      const reason = expect.stringContaining('unsupported firmware 2.55') as unknown;
      expect(endsOf(events, mac)).toEqual([expect.objectContaining({ type: 'failed', retryable: false, reason })]);
      expect(sim.stats.uploads).toBe(0);
      await until(() => events.some((event) => event.type === 'check-in' && event.labelId === mac));
      expect(sim.watchers).toBe(0); // it does not hold the websocket (and keep the tags awake) for nothing
      expect(driver.stats.protocolErrors).toBe(0); // not a stream of schema errors
    });

    it('records without updatecount mark the AP unsupported even when /sysinfo says nothing usable', async () => {
      // the legacy frame is pushed on the websocket: kept open here (no idle close) however slow a loaded machine is
      const { sim, driver } = await startPair({ buildVersion: 'custom' }, { idleCloseMs: 3_600_000 }, false);
      await until(() => driver.isLinkUp);
      const legacyRecord = { mac: sim.macs[1], hash: '0'.repeat(32), lastseen: 1, nextcheckin: 0, pending: 0, batteryMv: 2900 };
      const legacyFrame = JSON.stringify({ tags: [legacyRecord] });
      let injectedAt = 0;
      await until(() => {
        // pushed again every 200 ms until read: the frame must reach an open websocket, whatever the load
        if (Date.now() - injectedAt > 200) [injectedAt] = [Date.now(), sim.injectFrame(legacyFrame)];
        // the records may be read before /sysinfo answered: wait for both
        return driver.firmware.unsupported !== undefined && driver.firmware.version !== undefined;
      }, 20_000);
      expect(driver.firmware.unsupported).toContain('before 2.60');
      expect(driver.firmware.version).toBe('custom');
    });
  });

  it('lays the price out for each tag\'s size (hwType 1.54", 2.13", 2.9", 4.2", 7.5")', async () => {
    const hwTypes = [0x00, 0x54, 0x01, 0x02, 0x26];
    const { sim, driver, events } = await startPair({ hwTypes });
    sim.macs.forEach((mac, index) => driver.send(content(mac, 1, 1_000 + index)));
    await until(() => sim.macs.every((mac) => endsOf(events, mac).length === 1));
    for (const [index, mac] of sim.macs.entries()) {
      expect(endsOf(events, mac)[0], mac).toMatchObject({ type: 'confirmed' });
      const expected = JSON.stringify(oeplPriceCommands(content(mac, 1, 1_000 + index), oeplCanvas(hwTypes[index])));
      expect(sim.tag(mac)!.displayedJson, `hwType ${hwTypes[index]}`).toBe(expected);
    }
    expect(new Set(sim.macs.map((mac) => sim.tag(mac)!.displayedJson)).size).toBe(5);
  });
});
