import { describe, expect, it } from 'vitest';
import {
  MAX_OEPL_FRAME_CHARS,
  OeplProtocolError,
  OeplUnsupportedFirmwareError,
  normalizeOeplMac,
  parseOeplMessage,
  parseOeplTagsAnswer,
} from '../../../edge/labels/oepl-messages.js';

const record = {
  mac: '0000021d0b5a1234',
  hash: 'ab'.repeat(16),
  lastseen: 1_700_000_000,
  nextcheckin: 1_700_000_060,
  pending: 0,
  batteryMv: 2950,
  updatecount: 4,
  updatelast: 1_699_999_990,
  alias: 'x',
  RSSI: -60,
};

function protocolError(frame: string): OeplProtocolError {
  try {
    parseOeplMessage(frame);
  } catch (error) {
    expect(error).toBeInstanceOf(OeplProtocolError);
    return error as OeplProtocolError;
  }
  throw new Error('expected a protocol error');
}

describe('parseOeplMessage', () => {
  it('reads a tags record, keeps the fields we use and puts the mac in the AP form', () => {
    const message = parseOeplMessage(JSON.stringify({ tags: [record] }));
    expect(message).toEqual({ kind: 'tags', tags: [{ ...record, mac: '0000021D0B5A1234' }] });
  });

  it('reads the sys heartbeat, REBOOTING and the xfer timeout of one tag', () => {
    expect(parseOeplMessage('{"sys":{"currtime":1700000000,"runstate":1,"heap":1234}}')).toEqual({
      kind: 'sys',
      currentTimeS: 1_700_000_000,
      runState: 1,
    });
    expect(parseOeplMessage('{"errMsg":"REBOOTING"}')).toEqual({ kind: 'rebooting' });
    expect(parseOeplMessage(JSON.stringify({ errMsg: '< 0000021D0B5A1234 xfer timeout\r\n' }))).toEqual({
      kind: 'xfer-timeout',
      mac: '0000021D0B5A1234',
    });
    expect(parseOeplMessage('{"errMsg":"File not found. /x"}')).toEqual({ kind: 'error', text: 'File not found. /x' });
    expect(parseOeplMessage('{"console":"hello"}')).toEqual({ kind: 'other', key: 'console' });
  });

  it('refuses what is not JSON, not an object, too big or an invalid record, saying why and showing the start', () => {
    expect(protocolError('{"tags":[').reason).toMatch(/^not JSON/);
    expect(protocolError('[1,2]').reason).toBe('not a JSON object');
    expect(protocolError('{}').reason).toBe('empty object');
    expect(protocolError(`{"logMsg":"${'x'.repeat(MAX_OEPL_FRAME_CHARS)}"}`).reason).toMatch(/^frame of \d+ characters/);
    const invalid = protocolError(JSON.stringify({ tags: [{ ...record, pending: 'many', mac: 'nope' }] }));
    expect(invalid.reason).toBe('invalid tags record');
    expect(invalid.problems.join('\n')).toContain('/tags/0/pending');
    expect(invalid.problems.join('\n')).toContain('/tags/0/mac');
    expect(invalid.excerpt.startsWith('{"tags"')).toBe(true);
    expect(protocolError(JSON.stringify({ tags: [{ ...record, batteryMv: -1 }] })).problems[0]).toContain('batteryMv');
  });

  it('reads a /get_db?mac= answer and refuses the error answer', () => {
    expect(parseOeplTagsAnswer('{"tags":[]}')).toEqual([]);
    expect(() => parseOeplTagsAnswer('{"error": "malformatted parameter"}')).toThrow(OeplProtocolError);
  });
});

describe('normalizeOeplMac', () => {
  it('gives the 16-digit upper-case form the AP prints, or undefined', () => {
    expect(normalizeOeplMac('0000021d0b5a1234')).toBe('0000021D0B5A1234');
    expect(normalizeOeplMac('021d0b5a1234')).toBe('0000021D0B5A1234');
    expect(normalizeOeplMac('esl-01')).toBeUndefined();
    expect(normalizeOeplMac('0000021D0B5A123')).toBeUndefined();
  });

  it('reads records from firmware before 2.60 (no updatecount/updatelast) as sightings, not schema errors', () => {
    const record = { mac: '0000021d0b5a1234', hash: '0'.repeat(32), lastseen: 1_700_000_000, nextcheckin: 0, pending: 0, batteryMv: 2_800 };
    const legacy = JSON.stringify({ tags: [record], continu: 9 });
    const sighting = { mac: '0000021D0B5A1234', lastseen: 1_700_000_000, batteryMv: 2_800 };
    expect(parseOeplMessage(legacy)).toEqual({ kind: 'legacy-tags', sightings: [sighting], continu: 9 });
    expect(() => parseOeplTagsAnswer(legacy)).toThrow(OeplUnsupportedFirmwareError);
    expect(() => parseOeplMessage(JSON.stringify({ tags: [{ mac: 'zz', lastseen: 1, batteryMv: 1 }] }))).toThrow(OeplProtocolError);
  });
});
