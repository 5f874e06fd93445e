import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  OeplApSimulator,
  RUNSTATUS_PAUSE,
  RUNSTATUS_RUN,
  imageHash,
  type OeplApSimulatorOptions,
} from '../../devices/oepl-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';

const log = pino({ level: 'silent' });
let ap: OeplApSimulator | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await ap?.stop();
  ap = undefined;
});

async function startAp(options: Partial<OeplApSimulatorOptions> = {}): Promise<OeplApSimulator> {
  ap = new OeplApSimulator({
    tagCount: 3,
    logger: log,
    random: seededRandom(7),
    checkInIntervalMs: 200,
    renderDelayMs: 20,
    sysIntervalMs: 50,
    bootDelayMs: 0,
    rebootDelayMs: 50,
    rebootDownMs: 150,
    maxSleepMs: 200,
    ...options,
  });
  await ap.start();
  await until(() => ap!.isRunning);
  return ap;
}

/** Every frame the AP pushes on /ws, parsed. */
async function listen(sim: OeplApSimulator): Promise<{ frames: Record<string, unknown>[]; socket: WebSocket }> {
  const socket = new WebSocket(`${sim.url.replace('http', 'ws')}/ws`);
  sockets.push(socket);
  const frames: Record<string, unknown>[] = [];
  socket.on('message', (data) => {
    // ws hands each message over as one Buffer (binaryType 'nodebuffer', the default)
    if (!Buffer.isBuffer(data)) throw new Error('a websocket message that is not a Buffer');
    frames.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return { frames, socket };
}

function post(sim: OeplApSimulator, path: string, form: Record<string, string>) {
  return fetch(`${sim.url}${path}`, { method: 'POST', body: new URLSearchParams(form) }).then(async (response) => ({
    status: response.status,
    body: await response.text(),
  }));
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const commands = (price: string) => JSON.stringify([{ text: [4, 40, price, 'fonts/bahnschrift70', 2] }]);

describe('OeplApSimulator', () => {
  it('stores an upload ("Ok, saved"), renders it, and the tag takes it at its next check-in', async () => {
    const sim = await startAp();
    const mac = sim.macs[0]!;
    const { frames } = await listen(sim);
    const answer = await post(sim, '/jsonupload', { mac, json: commands('1.99') });
    expect(answer).toEqual({ status: 200, body: 'Ok, saved' });
    expect(sim.tag(mac)).toMatchObject({ updatecount: 0, displayedJson: null, contentMode: 19 });
    await until(() => sim.tag(mac)!.updatecount === 1);
    const shown = sim.tag(mac)!;
    expect(shown).toMatchObject({ pending: 0, displayedJson: commands('1.99'), hash: imageHash(commands('1.99')) });
    expect(shown.updatelast).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 1);
    const records = () =>
      frames
        .flatMap((frame) => (frame.tags as { mac: string; pending: number; updatecount: number }[] | undefined) ?? [])
        .filter((record) => record.mac === mac);
    await until(() => records().some((record) => record.updatecount === 1));
    // rendered and queued before the check-in
    expect(records().findIndex((record) => record.pending === 1)).toBeLessThan(records().findIndex((record) => record.updatecount === 1));
    await until(() => frames.some((frame) => 'sys' in frame));
  });

  it('skips an identical render: updatecount does not move', async () => {
    const sim = await startAp();
    const mac = sim.macs[1]!;
    await post(sim, '/jsonupload', { mac, json: commands('2.49') });
    await until(() => sim.tag(mac)!.updatecount === 1);
    await post(sim, '/jsonupload', { mac, json: commands('2.49') });
    await until(() => sim.stats.skippedRenders === 1);
    const seenAt = sim.tag(mac)!.lastseen;
    await until(() => sim.tag(mac)!.lastseen > seenAt); // a check-in after the skipped render
    expect(sim.tag(mac)).toMatchObject({ updatecount: 1, pending: 0 });
    expect(sim.stats.transfers).toBe(1);
  });

  it('answers 400 for an unknown mac, 409 when busy, and 400 for missing parameters', async () => {
    const sim = await startAp();
    expect(await post(sim, '/jsonupload', { mac: '0000FFFFFFFFFFFF', json: '[]' })).toEqual({
      status: 400,
      body: 'mac not found in tagDB',
    });
    sim.failNextUploads(1);
    expect(await post(sim, '/jsonupload', { mac: sim.macs[0]!, json: '[]' })).toEqual({ status: 409, body: 'come back later' });
    expect(await post(sim, '/jsonupload', { mac: sim.macs[0]! })).toEqual({ status: 400, body: 'Missing parameters' });
    expect(sim.stats).toMatchObject({ busyAnswers: 1, unknownMacAnswers: 1 });
  });

  it('on a transfer timeout says "xfer timeout" for the tag and drops its whole queue', async () => {
    const sim = await startAp();
    const mac = sim.macs[2]!;
    const { frames } = await listen(sim);
    sim.failNextTransfer(mac);
    await post(sim, '/jsonupload', { mac, json: commands('3.00') });
    await post(sim, '/tag_cmd', { mac, cmd: 'ledflash' });
    await until(() => frames.some((frame) => frame.errMsg === `< ${mac} xfer timeout\r\n`));
    expect(sim.stats.xferTimeouts).toBe(1);
    expect(sim.tag(mac)).toMatchObject({ pending: 0, updatecount: 0, ledFlashes: 0, displayedJson: null });
  });

  it('flashes the LED at the next check-in (/tag_cmd and /led_flash) and counts that transfer', async () => {
    const sim = await startAp();
    const mac = sim.macs[0]!;
    expect(await post(sim, '/tag_cmd', { mac, cmd: 'ledflash_long' })).toEqual({ status: 200, body: 'Ok, done' });
    expect(sim.tag(mac)!.pending).toBe(1);
    await until(() => sim.tag(mac)!.ledFlashes === 1);
    expect(sim.tag(mac)).toMatchObject({ lastLedCommand: 'ledflash_long', updatecount: 1, pending: 0 });
    const flash = await fetch(`${sim.url}/led_flash?mac=${mac}&pattern=${'0f'.repeat(12)}`);
    expect([flash.status, await flash.text()]).toEqual([200, 'ok, request transmitted']);
    await until(() => sim.tag(mac)!.ledFlashes === 2);
    expect((await post(sim, '/tag_cmd', { mac: '0000FFFFFFFFFFFF', cmd: 'ledflash' })).status).toBe(400);
    expect((await fetch(`${sim.url}/led_flash?mac=0000FFFFFFFFFFFF`)).status).toBe(400);
  });

  it('serves /get_db?mac= and pages /get_db?pos= from an 8-bit position', async () => {
    const sim = await startAp({ tagCount: 300 });
    const one = (await (await fetch(`${sim.url}/get_db?mac=${sim.macs[5]}`)).json()) as { tags: { mac: string }[] };
    expect(one.tags.map((tag) => tag.mac)).toEqual([sim.macs[5]]);
    expect(await (await fetch(`${sim.url}/get_db?mac=0000FFFFFFFFFFFF`)).json()).toEqual({ tags: [] });
    expect(await (await fetch(`${sim.url}/get_db?mac=xyz`)).json()).toEqual({ error: 'malformatted parameter' });
    const page = (await (await fetch(`${sim.url}/get_db?pos=260`)).json()) as { tags: { mac: string }[]; continu?: number };
    expect(page.tags[0]!.mac).toBe(sim.macs[4]); // 260 wraps to 4
    expect(page.continu).toBeGreaterThan(4);
  });

  it('reboots: REBOOTING, 409 while stopping, refused while down, back on the same port with pending renders redone', async () => {
    const sim = await startAp({ checkInIntervalMs: 100_000, rebootDelayMs: 150, rebootDownMs: 200, bootDelayMs: 50 });
    const mac = sim.macs[0]!;
    const { frames, socket } = await listen(sim);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const port = new URL(sim.url).port;
    await post(sim, '/jsonupload', { mac, json: commands('4.00') });
    await until(() => sim.tag(mac)!.pending === 1);
    const rebooted = sim.reboot();
    await until(() => frames.some((frame) => frame.errMsg === 'REBOOTING'));
    expect((await post(sim, '/jsonupload', { mac, json: '[]' })).status).toBe(409);
    await closed;
    await expect(fetch(`${sim.url}/get_db?mac=${mac}`)).rejects.toThrow();
    await rebooted;
    expect(new URL(sim.url).port).toBe(port);
    expect(sim.isRunning).toBe(true);
    expect(sim.tag(mac)!.pending).toBe(1); // re-rendered after boot
    expect(sim.stats.reboots).toBe(1);
  });

  it('keeps its own clock: currtime and updatelast an hour ahead of ours', async () => {
    const sim = await startAp({ clockOffsetMs: 3_600_000 });
    const { frames } = await listen(sim);
    await until(() => frames.some((frame) => 'sys' in frame));
    const sys = frames.find((frame) => 'sys' in frame)!.sys as { currtime: number };
    expect(sys.currtime - Date.now() / 1000).toBeGreaterThan(3_590);
    const mac = sim.macs[0]!;
    await post(sim, '/jsonupload', { mac, json: commands('1.00') });
    await until(() => sim.tag(mac)!.updatecount === 1);
    expect(sim.tag(mac)!.updatelast - Date.now() / 1000).toBeGreaterThan(3_590);
  });

  it('without a time source starts at 1970, takes POST /set_time (epoch > 1600000000) and loses it on reboot', async () => {
    const sim = await startAp({ noTime: true });
    const { frames } = await listen(sim);
    const lastSys = () => [...frames].reverse().find((frame) => 'sys' in frame)?.sys as { currtime: number } | undefined;
    await until(() => lastSys() !== undefined);
    expect(lastSys()!.currtime).toBeLessThan(1_000);
    expect(await post(sim, '/set_time', {})).toEqual({ status: 400, body: "missing 'epoch'" });
    expect(await post(sim, '/set_time', { epoch: '1500000000' })).toEqual({ status: 400, body: 'invalid epoch' });
    const epoch = Math.floor(Date.now() / 1000);
    expect(await post(sim, '/set_time', { epoch: String(epoch) })).toEqual({ status: 200, body: 'ok' });
    await until(() => lastSys()!.currtime >= epoch - 1); // a heartbeat goes out at once (web.cpp:701)
    await sim.reboot();
    const after = await listen(sim);
    await until(() => after.frames.some((frame) => 'sys' in frame));
    expect((after.frames.find((frame) => 'sys' in frame)!.sys as { currtime: number }).currtime).toBeLessThan(1_000);
  });

  it('stopsleep: a websocket client keeps tags awake; without one (or with stopsleep 0) they are sent to sleep', async () => {
    const sleepS = 60;
    const watched = await startAp({ checkInIntervalMs: 100, maxSleepMs: sleepS * 1000 });
    await listen(watched);
    const mac = watched.macs[0]!;
    await until(() => watched.tag(mac)!.checkIns >= 3); // awake: about every 100 ms
    const awake = watched.tag(mac)!;
    expect(awake.nextcheckin - awake.lastseen).toBeLessThanOrEqual(1);
    for (const socket of sockets.splice(0)) socket.terminate();
    await until(() => watched.watchers === 0);
    const before = watched.tag(mac)!.checkIns;
    await until(() => watched.tag(mac)!.checkIns === before + 1);
    const asleep = watched.tag(mac)!;
    expect(asleep.nextcheckin - asleep.lastseen).toBe(sleepS);
    await watched.stop();

    const timing = { checkInIntervalMs: 100, sysIntervalMs: 50, bootDelayMs: 0 };
    ap = new OeplApSimulator({ tagCount: 1, logger: log, random: seededRandom(3), ...timing, stopsleep: 0, maxSleepMs: sleepS * 1000 });
    await ap.start();
    await listen(ap);
    const only = ap.macs[0]!;
    await until(() => ap!.tag(only)!.checkIns >= 1);
    expect(ap.tag(only)!.nextcheckin - ap.tag(only)!.lastseen).toBe(sleepS);
  });

  it('RUNSTATUS: 2 = run, 1 = pause (uploads answer 409 until it runs again)', async () => {
    const sim = await startAp();
    const { frames } = await listen(sim);
    const runstates = () => frames.filter((frame) => 'sys' in frame).map((frame) => (frame.sys as { runstate: number }).runstate);
    await until(() => runstates().includes(RUNSTATUS_RUN));
    sim.pauseContent(300);
    expect(sim.runState).toBe(RUNSTATUS_PAUSE);
    expect((await post(sim, '/jsonupload', { mac: sim.macs[0]!, json: '[]' })).status).toBe(409);
    await until(() => runstates().includes(RUNSTATUS_PAUSE));
    await until(() => sim.runState === RUNSTATUS_RUN);
    expect((await post(sim, '/jsonupload', { mac: sim.macs[0]!, json: '[]' })).status).toBe(200);
  });

  it('an LED command changes the hash, so the same image is rendered again afterwards; tag_cmd refresh forces a render', async () => {
    const sim = await startAp();
    const mac = sim.macs[0]!;
    await post(sim, '/jsonupload', { mac, json: commands('5.00') });
    await until(() => sim.tag(mac)!.updatecount === 1);
    await post(sim, '/tag_cmd', { mac, cmd: 'ledflash' });
    await until(() => sim.tag(mac)!.updatecount === 2);
    expect(sim.tag(mac)!.hash).not.toBe(imageHash(commands('5.00')));
    await post(sim, '/jsonupload', { mac, json: commands('5.00') });
    await until(() => sim.tag(mac)!.updatecount === 3);
    expect(sim.stats.skippedRenders).toBe(0);
    await post(sim, '/jsonupload', { mac, json: commands('5.00') });
    await until(() => sim.stats.skippedRenders === 1);
    expect(await post(sim, '/tag_cmd', { mac, cmd: 'refresh' })).toEqual({ status: 200, body: 'Ok, done' });
    await until(() => sim.tag(mac)!.updatecount === 4);
    expect(sim.tag(mac)!.hash).toBe(imageHash(commands('5.00')));
  });

  it('reports its build on /sysinfo; before 2.60 records carry no updatecount/updatelast; hwType per tag', async () => {
    const sim = await startAp({ buildVersion: '2.55', hwTypes: [0x00, 0x26] });
    const info = (await (await fetch(`${sim.url}/sysinfo`)).json()) as { buildversion: string };
    expect(info.buildversion).toBe('2.55');
    const db = (await (await fetch(`${sim.url}/get_db?mac=${sim.macs[1]}`)).json()) as { tags: Record<string, unknown>[] };
    expect(db.tags[0]).not.toHaveProperty('updatecount');
    expect(db.tags[0]).toMatchObject({ hwType: 0x26 });
    expect(sim.tag(sim.macs[0]!)!.hwType).toBe(0);
  });
});
