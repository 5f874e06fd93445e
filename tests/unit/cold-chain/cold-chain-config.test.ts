import { describe, expect, it } from 'vitest';
import { coldChainCases } from '../../../edge/cold-chain/cold-chain-config.js';

const LIMITS = { maxTemperatureC: 5, aboveForMs: 600_000, backInRangeForMs: 300_000, doorOpenMaxMs: 120_000 };
const FREEZER = { maxTemperatureC: -18, aboveForMs: 900_000, backInRangeForMs: 300_000, doorOpenMaxMs: 60_000 };

describe('coldChainCases: one set of limits per case, whatever its transport', () => {
  it('takes the limits of coldChain.cases by device id (an MQTT case needs nothing else)', () => {
    const cases = coldChainCases(
      {
        cases: [
          { id: 'case-mqtt', ...LIMITS },
          { id: 'freezer-2', ...FREEZER },
        ],
      },
      [],
    );
    expect([...cases.policies]).toEqual([
      ['case-mqtt', LIMITS],
      ['freezer-2', FREEZER],
    ]);
    expect(cases.fromDeprecatedOpcuaKeys).toEqual([]);
    expect(cases.ignoredDuplicates).toEqual([]);
  });

  it('still takes the deprecated opcua.devices[].coldChain of a case, and says which cases use it', () => {
    const cases = coldChainCases({ cases: [] }, [
      { id: 'case-opcua', kind: 'case', coldChain: LIMITS },
      { id: 'case-unwatched', kind: 'case' },
      { id: 'shelf-9', kind: 'shelf', coldChain: FREEZER },
    ]);
    expect([...cases.policies]).toEqual([['case-opcua', LIMITS]]);
    expect(cases.fromDeprecatedOpcuaKeys).toEqual(['case-opcua']);
  });

  it('coldChain.cases wins over the old keys for the same case, and the first of two entries wins; both are reported', () => {
    const section = {
      cases: [
        { id: 'case-1', ...FREEZER },
        { id: 'case-1', ...LIMITS },
      ],
    };
    const cases = coldChainCases(section, [{ id: 'case-1', kind: 'case', coldChain: LIMITS }]);
    expect(cases.policies.get('case-1')).toEqual(FREEZER);
    expect(cases.fromDeprecatedOpcuaKeys).toEqual([]);
    expect(cases.ignoredDuplicates).toEqual(['case-1']);
  });
});
