import { describe, expect, it } from 'vitest';
import {
  batteryWords,
  countsWords,
  filterOf,
  firmwareLine,
  labelsPath,
  priceWords,
  problemReason,
  queryOf,
  unsupportedFirmwareDrivers,
  type LabelView,
} from '../../../dashboards/staff/src/views/labels/label-model.js';

const money = (cents: number) => `€${(cents / 100).toFixed(2)}`;
const age = () => '5 min ago';
const plural = (n: number, word: string) => `${n} ${n === 1 ? word : `${word}s`}`;

const label = (over: Partial<LabelView> = {}): LabelView => ({
  labelId: 'esl-1',
  state: 'ok',
  driverId: 'mqtt-esl',
  driverLinkUp: true,
  driverLinkDetail: null,
  batteryMv: 2_950,
  lastSeenAt: 1_000,
  displayedPriceCents: 199,
  confirmedPriceCents: 199,
  confirmedCampaignId: 'spring',
  pendingPriceCents: null,
  shelfId: 'shelf-a',
  facing: 1,
  sku: 'milk',
  productName: 'Oat milk 1 l',
  bindingSource: 'planogram',
  problem: 'ok',
  ...over,
});

describe('label view model', () => {
  it('says why a label failed: the access point that cannot reach it, or the two prices', () => {
    const old = label({
      driverId: 'oepl:ap-1',
      driverLinkUp: false,
      driverLinkDetail: 'unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed',
      problem: 'failed',
    });
    expect(problemReason(old, money, age)).toBe(
      'Access point ap-1 cannot reach it: unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed',
    );
    expect(problemReason(label({ displayedPriceCents: 249, problem: 'failed' }), money, age)).toBe(
      'Shows €2.49, but €1.99 was confirmed: send the price again',
    );
    expect(problemReason(label({ state: 'offline', problem: 'offline' }), money, age)).toBe('Not heard from since 5 min ago');
    expect(problemReason(label({ pendingPriceCents: 219, problem: 'price-pending' }), money, age)).toBe('Being sent €2.19');
    expect(problemReason(label(), money, age)).toBeNull();
  });

  it('writes the battery in volts with a level, and the confirmed price only where it differs', () => {
    expect(batteryWords(2_950)).toBe('2.95 V (good)');
    expect(batteryWords(2_100)).toBe('2.10 V (low)');
    expect(batteryWords(null)).toBe('unknown');
    expect(priceWords(label(), money)).toEqual({ shown: '€1.99', confirmed: null });
    expect(priceWords(label({ displayedPriceCents: null, confirmedPriceCents: 249 }), money)).toEqual({
      shown: 'Blank',
      confirmed: '€2.49',
    });
  });

  it('names each access point with too old a firmware once, with how many labels it carries', () => {
    const drivers = [
      { driverId: 'mqtt-esl', labels: 8, problems: 0, linkUp: true, linkDetail: null },
      { driverId: 'oepl:ap-2', labels: 1, problems: 1, linkUp: false, linkDetail: 'connection refused' },
      {
        driverId: 'oepl:ap-1',
        labels: 3,
        problems: 3,
        linkUp: false,
        linkDetail: 'unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed',
      },
    ];
    const old = unsupportedFirmwareDrivers(drivers);
    expect(old.map((driver) => firmwareLine(driver, plural))).toEqual([
      'Access point ap-1: unsupported firmware 2.55 — OpenEPaperLink 2.60 or later needed (3 labels)',
    ]);
  });

  it('counts the labels and names the problems that need attention, worst first', () => {
    const counts = { failed: 1, offline: 0, 'never-seen': 2, 'battery-low': 1, 'price-pending': 3, ok: 10 };
    expect(countsWords(counts, plural)).toBe('17 labels: 1 failed, 2 never seen, 1 battery low');
    expect(countsWords({ ...counts, failed: 0, 'never-seen': 0, 'battery-low': 0 }, plural)).toBe('13 labels: all fine');
  });

  it('keeps the filters in the address and asks the gateway for one page of them', () => {
    const filter = filterOf(new URLSearchParams('show=problems&driver=oepl:ap-1&page=3'));
    expect(filter).toEqual({ problemsOnly: true, driverId: 'oepl:ap-1', page: 3 });
    expect(queryOf(filter).toString()).toBe('show=problems&driver=oepl%3Aap-1&page=3');
    expect(labelsPath(filter, 50)).toBe('/api/labels?offset=100&limit=50&problems=true&driverId=oepl%3Aap-1');
    expect(filterOf(new URLSearchParams('page=-2'))).toEqual({ problemsOnly: false, driverId: null, page: 1 });
    expect(labelsPath(filterOf(new URLSearchParams()), 50)).toBe('/api/labels?offset=0&limit=50');
  });
});
