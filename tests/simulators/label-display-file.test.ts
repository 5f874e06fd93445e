import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabelDisplayFileError, readLabelDisplays, writeLabelDisplays, type LabelDisplays } from '../../devices/label-display-file.js';
import { LabelDisplayKeeper } from '../../devices/label-display-keeper.js';
import { OeplApSimulator, imageHash } from '../../devices/oepl-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import { ManualTimers } from './manual-timers.js';

const log = pino({ level: 'silent' });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-label-displays-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const json = '[{"text":[10,10,"1.99",3,1]}]';
const displays: LabelDisplays = {
  labels: {
    'esl-0001': { sku: '4006381333931', priceCents: 179 },
    'apl-0009': { sku: '4041129083013', priceCents: null },
    '0000021D00A00000': { oepl: { hash: imageHash(json), json, updatecount: 3, updatelast: 1_764_000_000 } },
  },
};

describe('label display file', () => {
  it('reads back what was written (atomically: no temp file left); no file yet is no labels', async () => {
    const file = join(dir, 'data', 'demo-label-displays.json');
    expect(await readLabelDisplays(file)).toEqual({ labels: {} });
    await writeLabelDisplays(file, displays);
    expect(await readLabelDisplays(file)).toEqual(displays);
    expect(await readdir(join(dir, 'data'))).toEqual(['demo-label-displays.json']);
  });

  it('a broken file is a LabelDisplayFileError naming the problem', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"labels":{"esl-0001":{"priceCents":-5}}}');
    const error = await readLabelDisplays(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LabelDisplayFileError);
    expect((error as LabelDisplayFileError).problems).toEqual(['/labels/esl-0001/priceCents: must be >= 0']);
    await writeFile(file, 'not json');
    expect(await readLabelDisplays(file).catch((caught: unknown) => (caught as Error).message)).toContain('not valid JSON');
  });

  it('an OpenEPaperLink AP booted from its saved tag database has the tag showing its image, nothing pending', () => {
    const saved = displays.labels['0000021D00A00000']?.oepl;
    const ap = new OeplApSimulator({
      tagCount: 2,
      logger: log,
      random: seededRandom(1),
      savedTag: (mac) => (mac === '0000021D00A00000' ? saved : undefined),
    });
    expect(ap.tag('0000021D00A00000')).toMatchObject({ hash: imageHash(json), displayedJson: json, updatecount: 3, pending: 0 });
    expect(ap.tag('0000021D00A00001')).toMatchObject({ hash: '0'.repeat(32), displayedJson: null, updatecount: 0 });
  });
});

describe('LabelDisplayKeeper', () => {
  it('writes when what the labels show changed, not otherwise, and once more on stop', async () => {
    const file = join(dir, 'demo-label-displays.json');
    const timers = new ManualTimers();
    let shown: LabelDisplays = { labels: { 'esl-0001': { sku: 'a', priceCents: 100 } } };
    const keeper = new LabelDisplayKeeper({ file, snapshot: () => shown, everyMs: 1_000, log, timers });
    keeper.start(shown);
    await timers.advance(1_000);
    expect(await readLabelDisplays(file)).toEqual({ labels: {} });

    shown = { labels: { 'esl-0001': { sku: 'a', priceCents: 120 } } };
    await timers.advance(1_000);
    await expectFile(file, shown);

    shown = { labels: { 'esl-0001': { sku: 'a', priceCents: 130 } } };
    await keeper.stop();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(shown);
  });
});

/** The keeper writes in the background of a timer tick: wait for the file to hold `expected`. */
async function expectFile(file: string, expected: LabelDisplays): Promise<void> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const now = await readLabelDisplays(file).catch(() => undefined);
    if (JSON.stringify(now) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) expect(now).toEqual(expected);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
