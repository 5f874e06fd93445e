import { describe, expect, it } from 'vitest';
import { decideLowStock, rearmDue, type LowStockDecision, type LowStockSilence } from '../../../edge/alerts/low-stock-policy.js';

const OPTIONS = { rearmAfterMs: 30 * 60_000 };
const SILENCED: LowStockSilence = { silencedAt: 1_000 };
const DUE = SILENCED.silencedAt + OPTIONS.rearmAfterMs;
const decide = (silence: LowStockSilence | undefined, event: Parameters<typeof decideLowStock>[1], now = 2_000): LowStockDecision =>
  decideLowStock(silence, event, now, OPTIONS);

describe('decideLowStock without a silence', () => {
  it('a low level raises, an ok level resolves', () => {
    expect(decide(undefined, { type: 'level', level: 'low' })).toEqual({ alert: 'raise', silence: 'keep' });
    expect(decide(undefined, { type: 'level', level: 'ok' })).toEqual({ alert: 'resolve', silence: 'keep' });
  });

  it('a change of units follows the active alert (if any), even down to 0', () => {
    expect(decide(undefined, { type: 'units', units: 1, previousUnits: 2 })).toEqual({ alert: 'follow', silence: 'keep' });
    expect(decide(undefined, { type: 'units', units: 0, previousUnits: 1 })).toEqual({ alert: 'follow', silence: 'keep' });
  });

  it('staff resolving by hand while the facing is low silences it; while it is ok or unknown, not', () => {
    expect(decide(undefined, { type: 'resolved-by-staff', level: 'low' })).toEqual({ alert: 'none', silence: 'start' });
    expect(decide(undefined, { type: 'resolved-by-staff', level: 'ok' })).toEqual({ alert: 'none', silence: 'keep' });
    expect(decide(undefined, { type: 'resolved-by-staff', level: 'unknown' })).toEqual({ alert: 'none', silence: 'keep' });
  });

  it('the periodic check does nothing', () => {
    expect(decide(undefined, { type: 'tick', level: 'low' }, DUE * 10)).toEqual({ alert: 'none', silence: 'keep' });
  });
});

describe('decideLowStock while silenced', () => {
  it('a low level (the facing confirmed low after a restart) opens nothing before the re-arm time', () => {
    expect(decide(SILENCED, { type: 'level', level: 'low' }, DUE - 1)).toEqual({ alert: 'none', silence: 'keep' });
  });

  it('a low level once the re-arm time has passed raises and ends the silence', () => {
    expect(decide(SILENCED, { type: 'level', level: 'low' }, DUE)).toEqual({ alert: 'raise', silence: 'end' });
  });

  it('the facing turning ok resolves (nothing to resolve) and ends the silence', () => {
    expect(decide(SILENCED, { type: 'level', level: 'ok' })).toEqual({ alert: 'resolve', silence: 'end' });
  });

  it('units dropping to 0 from above raise at once and end the silence', () => {
    expect(decide(SILENCED, { type: 'units', units: 0, previousUnits: 2 })).toEqual({ alert: 'raise', silence: 'end' });
  });

  it('units that change but stay above 0, or were 0 or unknown before, raise nothing', () => {
    expect(decide(SILENCED, { type: 'units', units: 1, previousUnits: 2 })).toEqual({ alert: 'follow', silence: 'keep' });
    expect(decide(SILENCED, { type: 'units', units: 0, previousUnits: 0 })).toEqual({ alert: 'follow', silence: 'keep' });
    expect(decide(SILENCED, { type: 'units', units: 0, previousUnits: null })).toEqual({ alert: 'follow', silence: 'keep' });
  });

  it('the periodic check re-arms a facing still low exactly at rearmAfterMs, not a ms before', () => {
    expect(decide(SILENCED, { type: 'tick', level: 'low' }, DUE - 1)).toEqual({ alert: 'none', silence: 'keep' });
    expect(decide(SILENCED, { type: 'tick', level: 'low' }, DUE)).toEqual({ alert: 'raise', silence: 'end' });
  });

  it('the periodic check ends the silence of a facing that is ok, and keeps that of an unknown one', () => {
    expect(decide(SILENCED, { type: 'tick', level: 'ok' })).toEqual({ alert: 'none', silence: 'end' });
    expect(decide(SILENCED, { type: 'tick', level: 'unknown' }, DUE)).toEqual({ alert: 'none', silence: 'keep' });
  });

  it('resolving by hand again restarts the silence', () => {
    expect(decide(SILENCED, { type: 'resolved-by-staff', level: 'low' })).toEqual({ alert: 'none', silence: 'start' });
  });
});

describe('rearmDue', () => {
  it('is measured from silencedAt with the injected now', () => {
    expect(rearmDue({ silencedAt: 0 }, 999, { rearmAfterMs: 1_000 })).toBe(false);
    expect(rearmDue({ silencedAt: 0 }, 1_000, { rearmAfterMs: 1_000 })).toBe(true);
  });
});
