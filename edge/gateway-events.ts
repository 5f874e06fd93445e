import { Subject, merge, map, type Observable } from 'rxjs';
import type { DeviceConnectionEvent } from './broker/device-broker.js';
import type { Alert } from './alerts/alerts.js';
import type { FacingStockView } from './stock/shelf-stock-book.js';

export type LiveEvent =
  | { type: 'alert'; data: Alert }
  | { type: 'stock'; data: FacingStockView }
  | { type: 'device'; data: DeviceConnectionEvent };

/** The typed bus of what staff see change live; the SSE route and (later) the HQ relay subscribe here. */
export class GatewayEvents {
  readonly alerts = new Subject<Alert>();
  readonly stock = new Subject<FacingStockView>();
  readonly devices = new Subject<DeviceConnectionEvent>();

  live(): Observable<LiveEvent> {
    return merge(
      this.alerts.pipe(map((data): LiveEvent => ({ type: 'alert', data }))),
      this.stock.pipe(map((data): LiveEvent => ({ type: 'stock', data }))),
      this.devices.pipe(map((data): LiveEvent => ({ type: 'device', data }))),
    );
  }

  complete(): void {
    this.alerts.complete();
    this.stock.complete();
    this.devices.complete();
  }
}
