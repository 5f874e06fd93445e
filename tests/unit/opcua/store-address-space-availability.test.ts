/**
 * The Availability folder of buildStoreAddressSpace on a bare node-opcua address space: one variable per sku of the
 * planogram (two facings of a sku: one variable), the build's snapshot, pushed changes, unknown units as
 * BadDataUnavailable, a sku outside the planogram ignored; no folder while the insight room is disabled.
 */
import { AddressSpace, SessionContext, type UAVariable } from 'node-opcua-address-space';
import { generateAddressSpace } from 'node-opcua-address-space/nodeJS.js';
import { nodesets } from 'node-opcua-nodesets';
import { StatusCodes } from 'node-opcua-status-code';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildStoreAddressSpace,
  type SkuAvailabilityInfo,
  type StoreAddressSpace,
  type StoreModel,
} from '../../../edge/opcua/store-address-space.js';

const AT = 1_700_000_000_000;
const planogram = {
  planogram: {
    facings: [
      { shelfId: 'shelf-a', facing: 1, sku: 'milk', capacityUnits: 10, tareG: 0 },
      { shelfId: 'shelf-a', facing: 2, sku: 'beans', capacityUnits: 8, tareG: 0 },
      { shelfId: 'shelf-b', facing: 1, sku: 'milk', capacityUnits: 10, tareG: 0 },
    ],
  },
  product: (sku: string) => ({ name: sku === 'milk' ? 'Oat milk 1 l' : 'Espresso beans', unitWeightG: 500 }),
};
const availability = (sku: string, availableUnits: number, unknownFacings = 0): SkuAvailabilityInfo => ({
  sku,
  availableUnits,
  unknownFacings,
  at: AT,
});

let addressSpace: AddressSpace | undefined;
afterEach(() => {
  addressSpace?.dispose();
  addressSpace = undefined;
});

async function build(snapshot: StoreModel['availability']): Promise<{ space: StoreAddressSpace; opcua: AddressSpace }> {
  const opcua = AddressSpace.create();
  addressSpace = opcua;
  await generateAddressSpace(opcua, [nodesets.standard]);
  opcua.registerNamespace('urn:test-store');
  const space = buildStoreAddressSpace(opcua, {
    storeId: 'store-1',
    planogram,
    facing: () => undefined,
    liveWeight: () => undefined,
    kiosks: [],
    isConnected: () => false,
    activeAlerts: [],
    ...(snapshot ? { availability: snapshot } : {}),
    acknowledgeAlert: () => ({ ok: true }),
    resolveAlert: () => ({ ok: true }),
  });
  return { space, opcua };
}

const read = (space: AddressSpace, path: string) => {
  const node = space.findNode(`ns=1;s=${path}`) as UAVariable | null;
  if (!node) throw new Error(`no node ${path}`);
  return node.readValueAsync(SessionContext.defaultContext);
};

describe('buildStoreAddressSpace: Availability', () => {
  it('one variable per sku under Store/Availability, the snapshot at build, then each pushed change', async () => {
    // milk: one of its two facings read; beans: none yet
    const { space, opcua } = await build(() => [availability('milk', 6, 1), availability('beans', 0, 1)]);
    const folder = opcua.findNode('ns=1;s=store/availability');
    expect(folder?.browseName.name).toBe('Availability');
    expect(
      opcua
        .findNode('ns=1;s=store')
        ?.findReferencesAsObject('HasComponent', true)
        .map((n) => n.browseName.name),
    ).toContain('Availability');
    const milk = opcua.findNode('ns=1;s=availability/milk') as UAVariable;
    expect(milk.browseName.name).toBe('milk');
    expect((await read(opcua, 'availability/milk')).value.value).toBe(6);
    expect((await read(opcua, 'availability/beans')).statusCode).toEqual(StatusCodes.BadDataUnavailable);

    space.availabilityChanged(availability('beans', 3));
    space.availabilityChanged(availability('milk', 0, 0));
    expect((await read(opcua, 'availability/beans')).value.value).toBe(3);
    const milkNow = await read(opcua, 'availability/milk');
    expect(milkNow.statusCode).toEqual(StatusCodes.Good);
    expect(milkNow.value.value).toBe(0);
    expect(milkNow.sourceTimestamp?.getTime()).toBe(AT);
    // both of milk's facings unknown again (a restart of the insight room): unknown, not 0
    space.availabilityChanged(availability('milk', 0, 2));
    expect((await read(opcua, 'availability/milk')).statusCode).toEqual(StatusCodes.BadDataUnavailable);
    // a sku outside the planogram makes no node
    space.availabilityChanged(availability('caviar', 5));
    expect(opcua.findNode('ns=1;s=availability/caviar')).toBeNull();
  }, 30_000);

  it('no Availability folder while the insight room is disabled (or not wired)', async () => {
    const disabled = await build(() => undefined);
    expect(disabled.opcua.findNode('ns=1;s=store/availability')).toBeNull();
    disabled.space.availabilityChanged(availability('milk', 4));
    expect(disabled.opcua.findNode('ns=1;s=availability/milk')).toBeNull();
    addressSpace?.dispose();
    const absent = await build(undefined);
    addressSpace = absent.opcua;
    expect(absent.opcua.findNode('ns=1;s=store/availability')).toBeNull();
  }, 30_000);
});
