import { describe, expect, it } from 'vitest';
import { DuplicateModuleError, MissingNeedError, NeedCycleError, startOrder, type ModuleNode } from '../../../edge/core/module-graph.js';

const node = (name: string, needs: string[] = [], uses: string[] = []): ModuleNode => ({ name, needs, uses });

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('startOrder', () => {
  it('starts every module after what it needs, whatever the order of the list', () => {
    const order = startOrder([
      node('http', ['storage', 'broker']),
      node('broker', ['devices']),
      node('devices', ['storage']),
      node('storage'),
    ]);
    expect(order).toEqual(['storage', 'devices', 'broker', 'http']);
  });

  it('keeps the order of the list where needs leave it free (stable)', () => {
    expect(startOrder([node('c'), node('a'), node('b')])).toEqual(['c', 'a', 'b']);
    // b is free as soon as a has started, so it comes before c, which is listed after it
    expect(startOrder([node('b', ['a']), node('c'), node('a')])).toEqual(['c', 'a', 'b']);
  });

  it('a used module gives no order: two modules may use each other', () => {
    expect(startOrder([node('alerts', [], ['stock']), node('stock', ['alerts'])])).toEqual(['alerts', 'stock']);
    expect(startOrder([node('pki', [], ['broker']), node('broker', ['pki'], [])])).toEqual(['pki', 'broker']);
  });

  it('names the gateway provides itself satisfy a need and start nothing', () => {
    expect(startOrder([node('http', ['gateway'])], ['gateway'])).toEqual(['http']);
  });

  it('a missing need throws MissingNeedError naming the module and the need', () => {
    const error = thrown(() => startOrder([node('storage'), node('labels', ['storage', 'broker'])]));
    expect(error).toBeInstanceOf(MissingNeedError);
    expect(error).toMatchObject({ module: 'labels', need: 'broker', relation: 'needs' });
    expect((error as Error).message).toBe('module "labels" needs "broker", which no module of the gateway provides');
  });

  it('a missing used module throws too', () => {
    expect(thrown(() => startOrder([node('pki', [], ['broker'])]))).toMatchObject({ module: 'pki', need: 'broker', relation: 'uses' });
  });

  it('a cycle throws NeedCycleError naming the modules around it', () => {
    const error = thrown(() =>
      startOrder([node('storage'), node('alerts', ['storage', 'stock']), node('stock', ['labels']), node('labels', ['alerts'])]),
    );
    expect(error).toBeInstanceOf(NeedCycleError);
    expect((error as NeedCycleError).cycle).toEqual(['alerts', 'stock', 'labels', 'alerts']);
    expect((error as Error).message).toContain('alerts → stock → labels → alerts');
  });

  it('a module needing itself is a cycle of one', () => {
    expect(thrown(() => startOrder([node('a', ['a'])]))).toMatchObject({ cycle: ['a', 'a'] });
  });

  it('a cycle behind modules that wait on it is found, not the waiters', () => {
    const error = thrown(() => startOrder([node('http', ['b']), node('a', ['b']), node('b', ['a'])]));
    expect((error as NeedCycleError).cycle).toEqual(['b', 'a', 'b']);
  });

  it('two modules of one name throw DuplicateModuleError, also against a name the gateway provides', () => {
    expect(thrown(() => startOrder([node('stock'), node('stock')]))).toBeInstanceOf(DuplicateModuleError);
    expect(thrown(() => startOrder([node('gateway')], ['gateway']))).toMatchObject({ module: 'gateway' });
  });
});
