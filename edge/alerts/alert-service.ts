import {
  acknowledgeAlert,
  compareAlertsForStaff,
  isActive,
  openAlert,
  resolveAlert,
  snoozeAlert,
  updateAlertDetails,
  wakeAlert,
  type Alert,
  type AlertDetails,
  type AlertKind,
  type AlertState,
  type NewAlert,
} from './alerts.js';

/** What the alert service needs from storage (implemented in edge/storage/alert-store.ts). */
export interface AlertRepository {
  loadActive(): Promise<Alert[]>;
  get(id: string): Promise<Alert | undefined>;
  listResolved(options: { kind?: AlertKind; limit: number }): Promise<Alert[]>;
}

export class AlertNotFoundError extends Error {
  constructor(readonly alertId: string) {
    super(`alert ${alertId} not found`);
    this.name = 'AlertNotFoundError';
  }
}

export type AlertFilter = { state?: AlertState | 'active' | 'all'; kind?: AlertKind; limit: number };

export type AlertServiceDeps = {
  repository: AlertRepository;
  /** called with every changed alert, in order: persistence (write-behind) and the live stream subscribe here */
  onChange: (alert: Alert, previous: Alert | undefined, by?: string) => void;
  now: () => number;
  newId: () => string;
  /** resolved alerts kept in memory until they are surely on disk and for quick listing */
  recentResolvedLimit?: number;
};

/**
 * Owns the active alerts: one per key, in memory (loaded at start) so that raising, deduplicating and listing them
 * never waits for the disk. Every change goes to `onChange`, which persists it and streams it to staff.
 */
export class AlertService {
  private readonly activeById = new Map<string, Alert>();
  private readonly activeIdByKey = new Map<string, string>();
  private readonly recentResolved: Alert[] = [];
  private readonly recentResolvedLimit: number;

  constructor(private readonly deps: AlertServiceDeps) {
    this.recentResolvedLimit = deps.recentResolvedLimit ?? 500;
  }

  async start(): Promise<void> {
    for (const alert of await this.deps.repository.loadActive()) this.remember(alert);
  }

  get activeCount(): number {
    return this.activeById.size;
  }

  activeByKey(key: string): Alert | undefined {
    const id = this.activeIdByKey.get(key);
    return id === undefined ? undefined : this.activeById.get(id);
  }

  /** Opens an alert unless one is active for the key already, in which case that one is returned unchanged. */
  raise(input: NewAlert): { alert: Alert; opened: boolean } {
    const existing = this.activeByKey(input.key);
    if (existing) return { alert: existing, opened: false };
    const alert = openAlert(input, this.deps.newId(), this.deps.now());
    this.apply(alert, undefined);
    return { alert, opened: true };
  }

  /** Resolves the active alert of a key, if there is one (the condition went away: a facing was restocked). */
  resolveByKey(key: string, by: string, resolution: string): Alert | undefined {
    const existing = this.activeByKey(key);
    if (!existing) return undefined;
    const resolved = resolveAlert(existing, by, resolution, this.deps.now());
    this.apply(resolved, existing, by);
    return resolved;
  }

  /**
   * Brings the active alert of a key up to date with its condition (a low facing's units: "2 left" → "Out of stock").
   * Reports a change only when something differs. Returns the alert as it is now, or undefined without one.
   */
  updateByKey(key: string, details: AlertDetails): Alert | undefined {
    const existing = this.activeByKey(key);
    if (!existing) return undefined;
    const updated = updateAlertDetails(existing, details, this.deps.now());
    if (updated !== existing) this.apply(updated, existing);
    return updated;
  }

  acknowledge(id: string, by: string): Alert {
    return this.transition(id, by, (alert, now) => acknowledgeAlert(alert, by, now));
  }

  snooze(id: string, by: string, minutes: number): Alert {
    return this.transition(id, by, (alert, now) => snoozeAlert(alert, by, now + minutes * 60_000, now));
  }

  resolve(id: string, by: string, note?: string): Alert {
    return this.transition(id, by, (alert, now) => resolveAlert(alert, by, note ?? 'resolved by staff', now));
  }

  /** Re-opens snoozed alerts whose time is up; the gateway calls this on a timer. */
  wakeSnoozed(): void {
    const now = this.deps.now();
    for (const alert of [...this.activeById.values()]) {
      const woken = wakeAlert(alert, now);
      if (woken !== alert) this.apply(woken, alert);
    }
  }

  async get(id: string): Promise<Alert | undefined> {
    return this.activeById.get(id) ?? this.recentResolved.find((a) => a.id === id) ?? (await this.deps.repository.get(id));
  }

  async list(filter: AlertFilter): Promise<Alert[]> {
    const state = filter.state ?? 'active';
    const byKind = (a: Alert) => filter.kind === undefined || a.kind === filter.kind;
    const active = [...this.activeById.values()].filter(byKind).filter((a) => state === 'active' || state === 'all' || a.state === state);
    let result = state === 'resolved' ? [] : active.sort(compareAlertsForStaff);
    if (state === 'resolved' || state === 'all') {
      const stored = await this.deps.repository.listResolved({ kind: filter.kind, limit: filter.limit });
      const recent = this.recentResolved.filter(byKind);
      const recentIds = new Set(recent.map((a) => a.id));
      const resolved = [...recent, ...stored.filter((a) => !recentIds.has(a.id))].sort((a, b) => (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0));
      result = [...result, ...resolved];
    }
    return result.slice(0, filter.limit);
  }

  private transition(id: string, by: string, change: (alert: Alert, now: number) => Alert): Alert {
    const alert = this.activeById.get(id);
    if (!alert) {
      const resolved = this.recentResolved.find((a) => a.id === id);
      if (resolved) return change(resolved, this.deps.now()); // throws AlertTransitionError: it is resolved
      throw new AlertNotFoundError(id);
    }
    const next = change(alert, this.deps.now());
    this.apply(next, alert, by);
    return next;
  }

  private apply(alert: Alert, previous: Alert | undefined, by?: string): void {
    this.remember(alert);
    this.deps.onChange(alert, previous, by);
  }

  private remember(alert: Alert): void {
    if (!isActive(alert)) {
      this.activeById.delete(alert.id);
      if (this.activeIdByKey.get(alert.key) === alert.id) this.activeIdByKey.delete(alert.key);
      this.recentResolved.unshift(alert);
      if (this.recentResolved.length > this.recentResolvedLimit) this.recentResolved.pop();
      return;
    }
    this.activeById.set(alert.id, alert);
    this.activeIdByKey.set(alert.key, alert.id);
  }
}
