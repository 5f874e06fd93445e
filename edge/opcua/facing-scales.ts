/**
 * Each facing as an OPC 40200 (Scales V2) scale in DI's `DeviceSet`, so a Scales-aware client browsing DeviceSet for
 * ScaleDeviceType instances finds the shelves' load cells.
 *
 * Why one SimpleScaleType per facing, not a shelf with weighing modules (read from Opc.Ua.Scales.NodeSet2.xml in
 * node-opcua-nodesets):
 *  - each facing has its own load cell, its own tare and its own weight; nothing adds them up. A ScaleDeviceType is
 *    "a scale" (§7.4.2) with one CurrentWeight, which is what a facing has;
 *  - WeighingModuleType (§7.50.2, a SimpleScaleType subtype) "represents a weighing bridge", a part of one scale whose
 *    weight is the sum; a shelf's facings are not that;
 *  - ScaleSystemType (§7.3.2) groups scales in SubDevices that "must be a subtype of the ScaleDeviceType but must not
 *    be from the same type": a shelf of identical facing scales is not such a system.
 *
 * The mandatory parts of ScaleDeviceType (§7.4.2) are all there: CurrentWeight (WeightItemType, with its mandatory
 * EngineeringUnits, EURange, Overload, Underload, TareMode, and the optional Gross, Net, Tare, WeightStable) and the
 * Identification add-in (Manufacturer, ProductInstanceUri, SerialNumber). TareMode (§10.9) is PresetTare when the
 * planogram gives the empty facing's weight (it is preset, not measured), None when it gives 0.
 *
 * NodeIds: the scale is `ns=1;s=scale/<shelfId>/<n>` (browse name `<shelfId>.facing-<n>`: DeviceSet's children need
 * unique names); node-opcua names its children `…-CurrentWeight`, `…-CurrentWeight-Gross`, …; the facing object
 * organizes its scale. Values are read on demand from the stock room's memory, as the plain `weightG` is.
 */
import type { AddressSpace, Namespace, UAObject, UAVariable } from 'node-opcua-address-space';
import { standardUnits } from 'node-opcua-data-access';
import { DataValue } from 'node-opcua-data-value';
import { StatusCodes } from 'node-opcua-status-code';
import { DataType, Variant } from 'node-opcua-variant';

export const SCALES_NAMESPACE_URI = 'http://opcfoundation.org/UA/Scales/V2/';
const DI_NAMESPACE_URI = 'http://opcfoundation.org/UA/DI/';
/** OPC 40200 §10.9 TareMode */
export const TARE_MODE = { None: 0, MeasuredTare: 1, PresetTare: 2, ProportionalTare: 3 } as const;

/** A facing's load cell now (the stock room's WeightNow fits). */
export type ScaleReading = { weightG: number; tareG: number; stable: boolean; at: number };

export type FacingScalePlan = { shelfId: string; facing: number; tareG: number; capacityUnits: number; unitWeightG: number };

export type FacingScales = {
  /** adds the facing's scale to DeviceSet; the facing object organizes it */
  add(plan: FacingScalePlan, facingObject: UAObject, live: () => ScaleReading | undefined, faulty: () => boolean): UAObject;
};

/** The Scales nodeset's types, or undefined when it is not loaded (opcua.server.scalesNodeset: false). */
export function facingScales(
  addressSpace: AddressSpace,
  ns: Namespace,
  about: { storeId: string; weightSamplingMs: number },
): FacingScales | undefined {
  const scalesIndex = addressSpace.getNamespaceIndex(SCALES_NAMESPACE_URI);
  const diIndex = addressSpace.getNamespaceIndex(DI_NAMESPACE_URI);
  if (scalesIndex < 0 || diIndex < 0) return undefined;
  const scaleType = addressSpace.findObjectType('SimpleScaleType', scalesIndex);
  const weightType = addressSpace.findDataType('WeightType', scalesIndex);
  const rangeType = addressSpace.findDataType('Range');
  // DI's DeviceSet, ns=DI;i=5001 (OPC 10000-100 §5.9)
  const deviceSet = addressSpace.findNode(`ns=${diIndex};i=5001`) as UAObject | null;
  if (!scaleType || !weightType || !rangeType || !deviceSet) return undefined;

  const unavailable = () => new DataValue({ statusCode: StatusCodes.BadDataUnavailable });
  const weighed = (live: () => ScaleReading | undefined, value: (w: ScaleReading) => Variant) => () => {
    const w = live();
    if (!w) return unavailable();
    return new DataValue({ value: value(w), statusCode: StatusCodes.Good, sourceTimestamp: new Date(w.at), serverTimestamp: new Date() });
  };
  const double = (live: () => ScaleReading | undefined, pick: (w: ScaleReading) => number) =>
    weighed(live, (w) => new Variant({ dataType: DataType.Double, value: pick(w) }));
  const boolean = (live: () => ScaleReading | undefined, pick: (w: ScaleReading) => boolean) =>
    weighed(live, (w) => new Variant({ dataType: DataType.Boolean, value: pick(w) }));

  return {
    add(plan, facingObject, live, faulty) {
      const scale = scaleType.instantiate({
        browseName: `${plan.shelfId}.facing-${plan.facing}`,
        nodeId: `ns=${ns.index};s=scale/${plan.shelfId}/${plan.facing}`,
        componentOf: deviceSet,
        optionals: ['CurrentWeight.Gross', 'CurrentWeight.Net', 'CurrentWeight.Tare', 'CurrentWeight.WeightStable'],
      });
      facingObject.addReference({ referenceType: 'Organizes', nodeId: scale.nodeId });
      const current = scale.getComponentByName('CurrentWeight', scalesIndex) as UAVariable;
      const property = (name: string, index = scalesIndex) => current.getPropertyByName(name, index);
      const highG = plan.tareG + plan.capacityUnits * plan.unitWeightG * 1.5;

      // Gross is the smoothed reading, Tare the planogram's empty-facing weight, Net what the products weigh; the
      // WeightType value carries all three
      const weightValue = (gross: number, tare: number) => {
        const value = addressSpace.constructExtensionObject(weightType, { gross, net: gross - tare, tare });
        return new Variant({ dataType: DataType.ExtensionObject, value });
      };
      current.minimumSamplingInterval = about.weightSamplingMs;
      current.bindVariable(
        {
          timestamped_get: () => {
            const w = live();
            // node-opcua keeps an ExtensionObject variable's fields bound to its value: it must never be null, so
            // "not known yet" is the status with a zero structure a client must not use (the status says Bad)
            if (!w) return new DataValue({ value: weightValue(0, plan.tareG), statusCode: StatusCodes.BadDataUnavailable });
            const at = new Date(w.at);
            const value = weightValue(w.weightG, w.tareG);
            return new DataValue({ value, statusCode: StatusCodes.Good, sourceTimestamp: at, serverTimestamp: new Date() });
          },
        },
        true,
      );
      property('Gross')?.bindVariable({ timestamped_get: double(live, (w) => w.weightG) }, true);
      property('Net')?.bindVariable({ timestamped_get: double(live, (w) => w.weightG - w.tareG) }, true);
      property('Tare')?.bindVariable({ timestamped_get: double(live, (w) => w.tareG) }, true);
      // stable: the smoothing window is full and the latest reading agrees with it, and the load cell is not faulty
      property('WeightStable')?.bindVariable({ timestamped_get: boolean(live, (w) => w.stable && !faulty()) }, true);
      // §7.5 Overload/Underload: outside the range the facing is specified for (EURange)
      property('Overload')?.bindVariable({ timestamped_get: boolean(live, (w) => w.weightG > highG) }, true);
      property('Underload')?.bindVariable({ timestamped_get: boolean(live, (w) => w.weightG < 0) }, true);
      const tareMode = plan.tareG > 0 ? TARE_MODE.PresetTare : TARE_MODE.None;
      property('TareMode')?.setValueFromSource({ dataType: DataType.Int32, value: tareMode });
      property('EngineeringUnits', 0)?.setValueFromSource({ dataType: DataType.ExtensionObject, value: standardUnits.gram });
      const range = addressSpace.constructExtensionObject(rangeType, { low: 0, high: highG });
      property('EURange', 0)?.setValueFromSource({ dataType: DataType.ExtensionObject, value: range });

      const identification = scale.getChildByName('Identification', diIndex) as UAObject | null;
      const identify = (name: string, value: Variant) =>
        (identification?.getPropertyByName(name, diIndex) as UAVariable | null)?.setValueFromSource(value);
      identify('Manufacturer', new Variant({ dataType: DataType.LocalizedText, value: { text: 'smartstore-edge' } }));
      const uri = `urn:smartstore-edge:${about.storeId}:scale:${plan.shelfId}/${plan.facing}`;
      identify('ProductInstanceUri', new Variant({ dataType: DataType.String, value: uri }));
      identify('SerialNumber', new Variant({ dataType: DataType.String, value: `${plan.shelfId}/${plan.facing}` }));
      return scale;
    },
  };
}
