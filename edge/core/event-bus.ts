/**
 * The typed in-process event bus every room talks through. Which events exist and what they carry is declared by the
 * rooms that publish them (each room's `events.ts` adds to `GatewayEvents`, see `events.ts` here); a room publishes its
 * own events and subscribes to others' without knowing who is on the other side.
 *
 * Subscribers are isolated: one that throws is reported through `onHandlerError` (logged and counted by the
 * composition root) and neither stops the publisher, nor the other subscribers, nor itself from getting the next
 * event. Publishing is synchronous and allocation-free, because `device.message` runs for every reading on the hot path.
 */
export type Handler<P> = (payload: P) => void;

export type HandlerErrorReport = { event: string; handler: string; error: unknown };

type Subscription<P> = { name: string; handler: Handler<P> };

export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  private readonly subscribers = new Map<keyof Events, Subscription<never>[]>();

  constructor(private readonly options: { onHandlerError: (report: HandlerErrorReport) => void; maxSubscribersPerEvent?: number }) {}

  /**
   * Subscribes `handler` under `name` (the label of `smartstore_event_handler_errors_total`); returns the function
   * that unsubscribes it. Subscribers of an event run in the order they subscribed.
   */
  on<K extends keyof Events>(event: K, name: string, handler: Handler<Events[K]>): () => void {
    const list = (this.subscribers.get(event) ?? []) as Subscription<Events[K]>[];
    const max = this.options.maxSubscribersPerEvent ?? 100;
    if (list.length >= max) throw new Error(`event ${String(event)} has ${max} subscribers already: a subscriber is leaking`);
    const subscription: Subscription<Events[K]> = { name, handler };
    // copy on write: a subscriber added or removed while an event is delivered takes effect with the next event
    this.subscribers.set(event, [...list, subscription] as Subscription<never>[]);
    return () => {
      const current = (this.subscribers.get(event) ?? []) as Subscription<Events[K]>[];
      this.subscribers.set(
        event,
        current.filter((s) => s !== subscription),
      );
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.subscribers.get(event) as Subscription<Events[K]>[] | undefined;
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      const subscription = list[i] as Subscription<Events[K]>;
      try {
        subscription.handler(payload);
      } catch (error) {
        this.report(String(event), subscription.name, error);
      }
    }
  }

  /** Whether anyone listens (a publisher can skip building a payload nobody reads). */
  has<K extends keyof Events>(event: K): boolean {
    return (this.subscribers.get(event)?.length ?? 0) > 0;
  }

  subscriberCount<K extends keyof Events>(event: K): number {
    return this.subscribers.get(event)?.length ?? 0;
  }

  /** For subscribers that run outside `emit` (a stream's subscribe callback): same isolation, same count. */
  reportHandlerError(event: string, handler: string, error: unknown): void {
    this.report(event, handler, error);
  }

  private report(event: string, handler: string, error: unknown): void {
    try {
      this.options.onHandlerError({ event, handler, error });
    } catch {
      // the error reporter itself failed (a logger closed at shutdown): nothing better to do than go on
    }
  }
}
