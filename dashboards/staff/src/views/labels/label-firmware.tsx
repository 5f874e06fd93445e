// The notice of access points whose firmware is too old to drive: every label behind one shows nothing new until the
// access point is updated, so it is named once, with how many labels it carries (the counts are over every label).
import { plural } from '../../format.js';
import { firmwareLine, unsupportedFirmwareDrivers, type LabelDriverSummary } from './label-model.js';

/** Access points named; a longer list says how many more. */
const SHOWN_MAX = 20;

export function LabelFirmwareNotice({ drivers, checkedAt }: { drivers: readonly LabelDriverSummary[]; checkedAt: number | null }) {
  const old = unsupportedFirmwareDrivers(drivers);
  const shown = old.slice(0, SHOWN_MAX);
  return (
    <div
      class="label-firmware"
      data-testid="label-firmware"
      role="status"
      hidden={old.length === 0}
      {...(checkedAt !== null ? { 'data-checked-at': String(checkedAt) } : {})}
    >
      <p class="label-firmware__title" id="label-firmware-title">
        Labels not updated: access point firmware too old
      </p>
      <ul class="label-firmware__list" aria-labelledby="label-firmware-title">
        {shown.map((driver) => (
          <li key={driver.driverId} data-testid="label-firmware-item" data-driver-id={driver.driverId}>
            {firmwareLine(driver, plural)}
          </li>
        ))}
        {old.length > shown.length && <li>and {plural(old.length - shown.length, 'more access point')}</li>}
      </ul>
    </div>
  );
}
