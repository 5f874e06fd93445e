// The store as it is now, as signals every view reads: loaded by a snapshot (GET /api/alerts, /api/shelves,
// /api/devices) and kept current by the live stream (Server-Sent Events, docs/http-api.md "Live events"). Events that
// arrive while a snapshot loads are queued and replayed on top of it; an update older than what the page holds
// (updatedAt) is ignored, and so is a late copy of an alert already seen resolved.
import { batch, computed, signal } from '@preact/signals';
import { isActive, type Alert } from '../../../edge/alerts/alerts.js';
import { facingKey } from '../../../edge/planogram/planogram.js';
import type { FacingStockView } from '../../../edge/stock/shelf-stock-book.js';
import { ApiError, getJson, sendJson } from './api.js';
import { askForToken, forgetToken, principal, storedToken, type Principal } from './session.js';

export type StoreInfo = { storeId: string; currency: string; locale: string; timeZone: string };
/** A facing's stock as GET /api/shelves and the `stock` event carry it (docs/http-api.md `FacingStock`): the
 * server's own type, so a field it adds or renames is a compile error here, not a blank on a tablet. */
export type FacingStock = FacingStockView;
/** Where the planogram's optional layout puts a shelf (GET /api/shelves `place`), and its aisles in walking order. */
export type ShelfPlace = { aisle: string; side: 'left' | 'right'; order: number };
export type StoreLayout = { aisles: readonly { aisle: string; name?: string }[]; places: ReadonlyMap<string, ShelfPlace> };
export type DeviceState = { deviceId: string; kind: string; connected: boolean };
/** The `campaign` event: a campaign's state and label counts (the campaigns view fetches the rest). */
export type CampaignProgress = { campaignId: string; state: string; total: number; counts: Readonly<Record<string, number>> };
/** The `relay` event and GET /api/relay, as far as the page reads it: is the link to HQ up, and since when. */
export type RelayState = { enabled: boolean; link: { up: boolean; since: string | null; lastError: string | null } };
export type StreamState = 'connecting' | 'live' | 'reconnecting';

const RECENTLY_RESOLVED_MAX = 50;
const RESOLVED_IDS_MAX = 500;
const CAMPAIGNS_KEPT_MAX = 50;
const QUEUED_EVENTS_MAX = 10_000;
const AGE_REFRESH_MS = 15_000;
const SNAPSHOT_RETRY_MS = 5_000;
const STREAM_RETRY_MIN_MS = 1_000;
const STREAM_RETRY_MAX_MS = 30_000;

/** active alerts (open, acknowledged, snoozed) by id */
export const alerts = signal<ReadonlyMap<string, Alert>>(new Map());
/** alerts resolved while the page was open, newest first (at most RECENTLY_RESOLVED_MAX) */
export const recentlyResolved = signal<readonly Alert[]>([]);
/** FacingStock by facingKey(shelfId, facing) = "shelfId/facing" */
export const facings = signal<ReadonlyMap<string, FacingStock>>(new Map());
/** the planogram's layout (aisles, each shelf's place); null while unknown or when the planogram has none */
export const layout = signal<StoreLayout | null>(null);
/** devices by id, with whether each is connected */
export const devices = signal<ReadonlyMap<string, DeviceState>>(new Map());
/** the latest progress of each campaign seen on the stream, by campaign id (at most CAMPAIGNS_KEPT_MAX) */
export const campaigns = signal<ReadonlyMap<string, CampaignProgress>>(new Map());
/** the link to HQ; null until known (or on a gateway without the relay) */
export const relay = signal<RelayState | null>(null);
export const streamState = signal<StreamState>('connecting');
export const storeInfo = signal<StoreInfo | null>(null);
/** the store's id from /api/health, which needs no token: the header names the store before anyone signs in */
const openStoreId = signal<string | null>(null);
/** the store's id as soon as either source knows it */
export const storeId = computed(() => storeInfo.value?.storeId ?? openStoreId.value);
/** the page's clock for ages ("5 min ago"), ticking every AGE_REFRESH_MS */
export const now = signal(Date.now());
/** the latest alert that opened or reopened, for the screen reader's live region and an optional sound */
export const alertOpened = signal<{ alert: Alert; reopened: boolean } | null>(null);
/** a problem loading or streaming, in words, for the page's notice; null when all is well */
export const liveProblem = signal<string | null>(null);

// the server's key of a facing (the stock answer and the alerts name facings by it)
export { facingKey };

// ---------- applying what the gateway says ----------

/** updatedAt of alerts seen resolved, by id (insertion order = age): a late, older copy must not bring them back */
const resolvedIds = new Map<string, number>();

function isOlder(incoming: { updatedAt?: number | null }, currentUpdatedAt: number | null | undefined): boolean {
  return typeof currentUpdatedAt === 'number' && typeof incoming.updatedAt === 'number' && incoming.updatedAt < currentUpdatedAt;
}

function rememberResolved(alert: Alert): void {
  resolvedIds.delete(alert.id);
  resolvedIds.set(alert.id, alert.updatedAt);
  if (resolvedIds.size > RESOLVED_IDS_MAX) resolvedIds.delete(resolvedIds.keys().next().value!);
  recentlyResolved.value = [alert, ...recentlyResolved.value.filter((a) => a.id !== alert.id)].slice(0, RECENTLY_RESOLVED_MAX);
}

/** One alert from an event or a write's answer; a resolved one leaves the active list for recentlyResolved. */
export function applyAlert(alert: Alert, { announce = false } = {}): void {
  const current = alerts.value.get(alert.id);
  if (isOlder(alert, current?.updatedAt ?? resolvedIds.get(alert.id))) return;
  const next = new Map(alerts.value);
  if (isActive(alert)) {
    next.set(alert.id, alert);
    if (announce && alert.state === 'open' && current?.state !== 'open') alertOpened.value = { alert, reopened: current !== undefined };
  } else {
    next.delete(alert.id);
    if (alert.state === 'resolved') rememberResolved(alert);
  }
  alerts.value = next;
}

/** The gateway no longer has this alert (404 after a write): drop our copy. */
export function forgetAlert(alertId: string): void {
  if (!alerts.value.has(alertId)) return;
  const next = new Map(alerts.value);
  next.delete(alertId);
  alerts.value = next;
}

function replaceAlerts(list: readonly Alert[]): void {
  alerts.value = new Map(list.filter((a) => isActive(a) && !isOlder(a, resolvedIds.get(a.id))).map((a) => [a.id, a]));
}

function applyStock(stock: FacingStock): void {
  const key = facingKey(stock.shelfId, stock.facing);
  if (isOlder(stock, facings.value.get(key)?.updatedAt)) return;
  facings.value = new Map(facings.value).set(key, stock);
}

type ShelvesAnswer = {
  shelves: { id: string; place?: ShelfPlace; facings: Omit<FacingStock, 'shelfId'>[] }[];
  aisles?: { aisle: string; name?: string }[];
};

function replaceShelves(answer: ShelvesAnswer): void {
  const next = new Map<string, FacingStock>();
  const places = new Map<string, ShelfPlace>();
  for (const shelf of answer.shelves) {
    if (shelf.place) places.set(shelf.id, shelf.place);
    for (const stock of shelf.facings) next.set(facingKey(shelf.id, stock.facing), { ...stock, shelfId: shelf.id });
  }
  facings.value = next;
  layout.value = answer.aisles ? { aisles: answer.aisles, places } : null;
}

function applyDevice(event: DeviceState): void {
  devices.value = new Map(devices.value).set(event.deviceId, { deviceId: event.deviceId, kind: event.kind, connected: event.connected });
}

function applyCampaignProgress(progress: CampaignProgress): void {
  const next = new Map(campaigns.value);
  next.delete(progress.campaignId); // re-inserted last: the map's order is the order of the latest news
  next.set(progress.campaignId, progress);
  while (next.size > CAMPAIGNS_KEPT_MAX) next.delete(next.keys().next().value!);
  campaigns.value = next;
}

// ---------- the snapshot and the stream ----------

type LiveEvent =
  | { type: 'alert'; data: Alert }
  | { type: 'stock'; data: FacingStock }
  | { type: 'device'; data: DeviceState }
  | { type: 'relay'; data: RelayState }
  | { type: 'campaign'; data: CampaignProgress };

/** events that arrive while a snapshot loads, replayed on top of it (null: no snapshot loading) */
let queuedEvents: LiveEvent[] | null = null;
let snapshotGeneration = 0;
let stream: EventSource | null = null;
let streamRetry: ReturnType<typeof setTimeout> | undefined;
let snapshotRetry: ReturnType<typeof setTimeout> | undefined;
/** bumped when the token changes: answers and timers of an older session are ignored */
let sessionGeneration = 0;

function applyEvent(event: LiveEvent): void {
  if (queuedEvents) {
    // a snapshot that never answers must not hold the page's memory hostage: past the bound, load again
    if (queuedEvents.length >= QUEUED_EVENTS_MAX) void loadSnapshot();
    else queuedEvents.push(event);
    return;
  }
  switch (event.type) {
    case 'alert':
      applyAlert(event.data, { announce: true });
      break;
    case 'stock':
      applyStock(event.data);
      break;
    case 'device':
      applyDevice(event.data);
      break;
    case 'relay':
      relay.value = event.data;
      break;
    case 'campaign':
      applyCampaignProgress(event.data);
      break;
  }
}

type DevicesAnswer = { devices: { id: string; kind: string; connected: boolean }[] };

/** Loads alerts, shelves and devices; events that arrive meanwhile are replayed on top. Only the latest load applies. */
async function loadSnapshot(): Promise<void> {
  const generation = ++snapshotGeneration;
  clearTimeout(snapshotRetry);
  queuedEvents = []; // what came before this request is in its answer
  try {
    const [alertList, shelves, deviceList] = await Promise.all([
      getJson<{ alerts: Alert[] }>('/api/alerts?state=active'),
      getJson<ShelvesAnswer>('/api/shelves'),
      // a token that may not list devices still sees the store
      getJson<DevicesAnswer>('/api/devices', { quietRefusal: true }).catch(() => null),
    ]);
    if (generation !== snapshotGeneration) return;
    const queued = queuedEvents;
    queuedEvents = null;
    batch(() => {
      if (deviceList) {
        devices.value = new Map(deviceList.devices.map((d) => [d.id, { deviceId: d.id, kind: d.kind, connected: d.connected }]));
      }
      replaceShelves(shelves);
      replaceAlerts(alertList.alerts);
      for (const event of queued) applyEvent(event);
    });
    liveProblem.value = null;
  } catch (error) {
    if (generation !== snapshotGeneration) return;
    queuedEvents = null;
    // refused: api.ts has asked for a token; signing in starts a new session
    if (error instanceof ApiError && error.refused) return;
    liveProblem.value = `Could not load the store: ${error instanceof Error ? error.message : String(error)}. Retrying…`;
    snapshotRetry = setTimeout(() => {
      if (generation === snapshotGeneration) void loadSnapshot();
    }, SNAPSHOT_RETRY_MS);
  }
}

async function loadRelay(): Promise<void> {
  try {
    relay.value = await getJson<RelayState>('/api/relay', { quietRefusal: true });
  } catch {
    // an older gateway or a token without access: no HQ line, nothing else changes
  }
}

/** Currency, locale and time zone, once signed in (GET /api/store); money is written in the defaults meanwhile. */
async function loadStoreInfo(): Promise<void> {
  try {
    storeInfo.value = await getJson<StoreInfo>('/api/store', { quietRefusal: true });
  } catch {
    // the next hello asks again
  }
}

/** The store's id before anyone signs in: /api/health is open (and a 503 while degraded still names the store). */
async function loadOpenStoreId(): Promise<void> {
  try {
    openStoreId.value = (await getJson<{ storeId?: string }>('/api/health', { quietRefusal: true })).storeId ?? null;
  } catch (error) {
    if (error instanceof ApiError) openStoreId.value = (error.body as { storeId?: string } | null)?.storeId ?? null;
  }
}

function parseData<T>(event: MessageEvent<string>): T | null {
  try {
    return JSON.parse(event.data) as T;
  } catch {
    return null;
  }
}

/**
 * EventSource retries by itself after a dropped connection, but with the same (used) one-time ticket, which the
 * gateway refuses; after a refusal it gives up. So on any error the page closes it and connects again with a new
 * ticket, waiting twice as long each time up to STREAM_RETRY_MAX_MS.
 */
async function connectStream(session: number, retryMs = STREAM_RETRY_MIN_MS): Promise<void> {
  const retry = () => {
    streamState.value = 'reconnecting';
    clearTimeout(streamRetry);
    streamRetry = setTimeout(() => void connectStream(session, Math.min(retryMs * 2, STREAM_RETRY_MAX_MS)), retryMs);
  };
  let ticket: string;
  try {
    // EventSource cannot send the Authorization header: a one-time ticket goes in the URL instead
    ({ ticket } = await sendJson<{ ticket: string }>('POST', '/api/events/ticket'));
  } catch (error) {
    if (session !== sessionGeneration) return;
    if (error instanceof ApiError && error.refused) {
      streamState.value = 'reconnecting';
      return;
    }
    retry();
    return;
  }
  if (session !== sessionGeneration) return;
  stream?.close();
  const source = new EventSource(`/api/events?ticket=${encodeURIComponent(ticket)}`);
  stream = source;
  source.addEventListener('hello', () => {
    retryMs = STREAM_RETRY_MIN_MS;
    streamState.value = 'live';
    if (!storeInfo.value) void loadStoreInfo();
    void loadSnapshot();
    void loadRelay();
  });
  for (const type of ['alert', 'stock', 'device', 'relay', 'campaign'] as const) {
    source.addEventListener(type, (event: MessageEvent<string>) => {
      const data = parseData<LiveEvent['data']>(event);
      if (data) applyEvent({ type, data } as LiveEvent);
    });
  }
  source.addEventListener('error', () => {
    if (stream !== source) return; // replaced after the token changed
    source.close();
    stream = null;
    retry();
  });
}

function stopStream(): void {
  clearTimeout(streamRetry);
  clearTimeout(snapshotRetry);
  stream?.close();
  stream = null;
  snapshotGeneration++;
  queuedEvents = null;
}

/** Asks the gateway who the stored token is; without a valid one, asks for one. */
async function signIn(session: number): Promise<boolean> {
  if (!storedToken()) {
    principal.value = null;
    askForToken('Sign in to see the store.');
    return false;
  }
  try {
    const who = await getJson<Principal>('/api/whoami');
    if (session !== sessionGeneration) return false;
    principal.value = who;
    return true;
  } catch (error) {
    if (session !== sessionGeneration) return false;
    principal.value = null;
    if (error instanceof ApiError && error.status !== 0) return false; // refused: api.ts asked for a token
    liveProblem.value = 'Could not reach the gateway; retrying…';
    snapshotRetry = setTimeout(() => void startSession(), SNAPSHOT_RETRY_MS);
    return false;
  }
}

/** Signs in with the stored token, then loads the store and opens the live stream (again, after the token changed). */
export async function startSession(): Promise<boolean> {
  const session = ++sessionGeneration;
  stopStream();
  streamState.value = 'connecting';
  if (!(await signIn(session))) return false;
  void connectStream(session);
  return true;
}

export function signOut(): void {
  forgetToken();
  sessionGeneration++;
  stopStream();
  principal.value = null;
  // nothing of the store stays on the page for the next person
  resolvedIds.clear();
  batch(() => {
    alerts.value = new Map();
    recentlyResolved.value = [];
    facings.value = new Map();
    layout.value = null;
    devices.value = new Map();
    campaigns.value = new Map();
    relay.value = null;
  });
  askForToken('Signed out.');
}

let started = false;

/** Once per page: the store's info (open), the session, and the clock for ages. */
export function startLive(): void {
  if (started) return;
  started = true;
  void loadOpenStoreId();
  void startSession();
  setInterval(() => (now.value = Date.now()), AGE_REFRESH_MS);
}
