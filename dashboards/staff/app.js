// Staff page: active alerts and shelf stock, kept live over Server-Sent Events (contract: docs/http-api.md).
// Plain ES module, no build step. Server strings only ever reach the DOM through text nodes.

const SNOOZE_MINUTES = 15;
const AGE_REFRESH_MS = 15_000;
const RECENTLY_RESOLVED_MAX = 10;
const RESOLVED_IDS_MAX = 500;
const SNAPSHOT_RETRY_MS = 5_000;
const STREAM_RETRY_MAX_MS = 30_000;
const NOTICE_MS = { info: 5_000, error: 10_000 };
const STORAGE_KEYS = { token: 'smartstore.staffToken' };
/** Campaigns the Prices panel shows, newest first; older ones are dropped from the page (the API keeps them). */
const CAMPAIGNS_SHOWN_MAX = 10;
/** Bad CSV rows listed on the page; the gateway names every one, a longer list says how many more. */
const CSV_PROBLEMS_SHOWN_MAX = 200;
/** Roles that may change prices (the gateway checks again: the campaign routes need manager). */
const PRICE_ROLES = new Set(['manager', 'admin']);
/** Label states in a campaign, in display order; settled ones count towards progress. */
const LABEL_STATE_LABELS = {
  confirmed: 'confirmed',
  failed: 'failed',
  waiting: 'waiting for the label',
  sent: 'sent',
  pending: 'pending',
  superseded: 'superseded',
  cancelled: 'cancelled',
};
const SETTLED_LABEL_STATES = ['confirmed', 'failed', 'superseded', 'cancelled'];
/** How often the page asks GET /api/labels which access points run firmware the gateway cannot drive. */
const LABEL_FIRMWARE_REFRESH_MS = 60_000;
/** Access points the firmware notice names; a longer list says how many more. */
const LABEL_FIRMWARE_SHOWN_MAX = 20;
/** The label drivers' link detail for an access point too old to drive (edge/labels, docs/http-api.md#labels). */
const UNSUPPORTED_FIRMWARE = /^unsupported firmware\b/i;
const CAMPAIGN_STATE_LABELS = {
  scheduled: 'Scheduled',
  running: 'Running',
  done: 'Done',
  cancelled: 'Cancelled',
  'rolled-back': 'Rolled back',
};
const FINISHED_CAMPAIGN_STATES = new Set(['done', 'cancelled', 'rolled-back']);

const KIND_LABELS = {
  'low-stock': 'Low stock',
  'kiosk-assist': 'Kiosk needs assistance',
  'kiosk-weight-mismatch': 'Kiosk weight mismatch',
  'sensor-fault': 'Load cell fault',
  'cold-chain': 'Cold chain',
  'case-door-open': 'Case door open',
  'price-mismatch': 'Price mismatch',
  'label-offline': 'Shelf label offline',
  'label-battery-low': 'Shelf label battery low',
  'stock-out-predicted': 'Stock-out predicted',
  'phantom-stock': 'Phantom stock',
  'no-sales': 'Facing not selling',
  'scale-stuck': 'Load cell stuck',
};
const STATE_LABELS = { open: 'Open', acknowledged: 'Acknowledged', snoozed: 'Snoozed', resolved: 'Resolved' };
const LEVEL_LABELS = { ok: 'OK', low: 'Low', unknown: 'Unknown' };
/** Which buttons each alert state offers, in display order. */
const ACTIONS_BY_STATE = {
  open: ['ack', 'snooze', 'resolve'],
  acknowledged: ['snooze', 'resolve'],
  snoozed: ['resolve'],
};
const ACTIONS = {
  ack: { label: 'Acknowledge', testId: 'ack-button', done: 'Acknowledged' },
  snooze: { label: `Snooze ${SNOOZE_MINUTES} min`, testId: 'snooze-button', done: 'Snoozed' },
  resolve: { label: 'Resolve', testId: 'resolve-button', done: 'Resolved' },
};

const state = {
  storeId: null,
  /** active alerts by id */
  alerts: new Map(),
  /** updatedAt of alerts seen resolved, by id: a late, older copy must not bring them back */
  resolvedIds: new Map(),
  /** newest first */
  recentlyResolved: [],
  /** FacingStock by "shelfId/facing" */
  facings: new Map(),
  /** { kind, connected } by device id */
  devices: new Map(),
  /** alert ids with a write in flight */
  pendingWrites: new Set(),
  /** the write that waits for a staff token */
  writeAwaitingToken: null,
  /** { name, role } of the signed-in token, from /api/whoami */
  principal: null,
  /** the open live stream, closed when the token changes */
  stream: null,
  snapshotGeneration: 0,
  /** events that arrive while a snapshot loads, replayed on top of it */
  queuedEvents: null,
  /** campaign views and progress events by campaign id, at most CAMPAIGNS_SHOWN_MAX (newest kept) */
  campaigns: new Map(),
  /** campaign ids whose failed labels are being fetched */
  campaignFetches: new Set(),
  /** a CSV upload in flight */
  uploading: false,
  /** a GET /api/labels for the firmware notice in flight: a slow answer is never overlapped by the next refresh */
  labelFirmwareLoading: false,
  /** what the firmware notice shows, so an unchanged refresh does not make screen readers announce it again */
  labelFirmwareShown: '',
};

const byId = (id) => document.getElementById(id);

// ---------- pure helpers ----------

function facingKey(shelfId, facing) {
  return `${shelfId}/${facing}`;
}

function isActive(alert) {
  return alert.state === 'open' || alert.state === 'acknowledged' || alert.state === 'snoozed';
}

/**
 * How urgent an alert is, 0 first: a customer waiting at a kiosk or a wrong price, then a warm refrigerated case or an empty facing,
 * then a low facing or a case door left open, then the rest (a load cell to check). The gateway sorts the same way (edge/alerts/alerts.ts staffUrgency).
 */
function urgency(alert) {
  if (alert.kind === 'kiosk-assist' || alert.kind === 'kiosk-weight-mismatch' || alert.kind === 'price-mismatch') return 0;
  if (alert.kind === 'cold-chain') return 1;
  if (alert.kind === 'low-stock') return alert.severity === 'critical' ? 1 : 2;
  if (alert.kind === 'case-door-open' || alert.kind === 'stock-out-predicted') return 2;
  return 3;
}

/** Most urgent first; within the same urgency the oldest first — whoever has waited longest. */
function compareAlerts(a, b) {
  const rank = urgency(a) - urgency(b);
  return rank !== 0 ? rank : a.openedAt - b.openedAt;
}

/** True when `incoming` is older than what we already hold (both carry updatedAt, ms). */
function isOlder(incoming, currentUpdatedAt) {
  return currentUpdatedAt != null && incoming.updatedAt != null && incoming.updatedAt < currentUpdatedAt;
}

function facingLevel(stock) {
  return stock.units === null || stock.units === undefined ? 'unknown' : stock.level;
}

function formatAge(thenMs, nowMs) {
  const minutes = Math.floor(Math.max(0, nowMs - thenMs) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min ago` : `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

function formatClock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Builds an element; string children become text nodes, never markup. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function ageElement(ms) {
  if (!Number.isFinite(ms)) return el('span', {}, '—');
  return el(
    'time',
    { datetime: new Date(ms).toISOString(), title: new Date(ms).toLocaleString(), dataset: { at: ms } },
    formatAge(ms, Date.now()),
  );
}

// ---------- signing in: the staff token ----------
// Every route but /api/health needs a token; who acknowledged or resolved an alert is the token's name, so the page
// shows who is signed in instead of asking for a name.

function authHeaders() {
  const token = localStorage.getItem(STORAGE_KEYS.token);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function showPrincipal(principal) {
  state.principal = principal;
  byId('signed-in-as').textContent = principal ? `${principal.name} (${principal.role})` : 'not signed in';
  byId('sign-out').hidden = !principal;
  renderPriceControls();
  if (!principal) renderLabelFirmware([], false);
}

/** Asks the gateway who the stored token is; without a valid one, shows the sign-in form. */
async function signIn() {
  if (!localStorage.getItem(STORAGE_KEYS.token)) {
    showPrincipal(null);
    askForToken(null, 'Sign in to see the store.');
    return false;
  }
  try {
    const response = await fetch('/api/whoami', { headers: { Accept: 'application/json', ...authHeaders() }, cache: 'no-store' });
    const body = await readJson(response);
    if (response.ok) {
      showPrincipal(body);
      return true;
    }
    showPrincipal(null);
    askForToken(null, `Not signed in: ${(body?.message ?? response.statusText).replace(/\.$/, '')}.`);
  } catch {
    showNotice('Could not reach the gateway; retrying…', 'error');
    setTimeout(startSession, SNAPSHOT_RETRY_MS);
  }
  return false;
}

/** Signs in, then loads the store and opens the live stream (again, after the token changed). */
async function startSession() {
  if (!(await signIn())) return;
  loadSnapshot();
  connectStream();
  loadLabelFirmware();
}

function setUpSignOut() {
  byId('sign-out').addEventListener('click', () => {
    localStorage.removeItem(STORAGE_KEYS.token);
    state.stream?.close();
    state.stream = null;
    startSession();
  });
}

/** `#token=...` in the address moves to localStorage and out of the address bar (and history). */
function takeTokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return;
  localStorage.setItem(STORAGE_KEYS.token, token);
  history.replaceState(history.state, '', location.pathname + location.search);
}

function askForToken(write, message) {
  state.writeAwaitingToken = write;
  const form = byId('token-form');
  form.hidden = false;
  byId('token-input').focus();
  showNotice(`${message} Enter your staff token to continue.`, 'error');
}

function setUpTokenForm() {
  const form = byId('token-form');
  const input = byId('token-input');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    localStorage.setItem(STORAGE_KEYS.token, token);
    input.value = '';
    form.hidden = true;
    const write = state.writeAwaitingToken;
    state.writeAwaitingToken = null;
    state.stream?.close();
    state.stream = null;
    startSession().then(() => {
      if (write && state.principal) runAlertAction(write.alertId, write.action);
    });
  });
  byId('token-cancel').addEventListener('click', () => {
    input.value = '';
    form.hidden = true;
    state.writeAwaitingToken = null;
  });
}

// ---------- notices ----------

let noticeTimer;

function showNotice(message, kind = 'info') {
  const notice = byId('notice');
  notice.textContent = message;
  notice.dataset.kind = kind;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, NOTICE_MS[kind]);
}

function announceAlert(alert, reopened) {
  const severity = alert.severity === 'critical' ? 'Critical alert' : 'Alert';
  byId('alert-announcer').textContent = `${reopened ? 'Reopened' : 'New'} ${severity.toLowerCase()}: ${alert.title}`;
}

// ---------- alerts: state ----------

function rememberResolved(alert) {
  state.resolvedIds.delete(alert.id);
  state.resolvedIds.set(alert.id, alert.updatedAt);
  if (state.resolvedIds.size > RESOLVED_IDS_MAX) state.resolvedIds.delete(state.resolvedIds.keys().next().value);
  state.recentlyResolved = [alert, ...state.recentlyResolved.filter((a) => a.id !== alert.id)].slice(0, RECENTLY_RESOLVED_MAX);
}

/** Applies one alert from an event or a write response; resolved ones leave the panel. */
function applyAlert(alert, { announce = false } = {}) {
  const current = state.alerts.get(alert.id);
  if (isOlder(alert, current?.updatedAt ?? state.resolvedIds.get(alert.id))) return;
  if (isActive(alert)) {
    state.alerts.set(alert.id, alert);
    if (announce && alert.state === 'open' && current?.state !== 'open') announceAlert(alert, Boolean(current));
  } else {
    state.alerts.delete(alert.id);
    if (alert.state === 'resolved') rememberResolved(alert);
  }
  renderAlerts();
}

function replaceAlerts(alerts) {
  state.alerts = new Map(alerts.filter((a) => isActive(a) && !isOlder(a, state.resolvedIds.get(a.id))).map((a) => [a.id, a]));
  renderAlerts();
}

// ---------- alerts: rendering ----------

function alertLocation(alert) {
  const parts = [];
  if (alert.shelfId) parts.push(`Shelf ${alert.shelfId}`);
  if (alert.facing !== undefined) {
    const name = state.facings.get(facingKey(alert.shelfId, alert.facing))?.name;
    parts.push(name ? `facing ${alert.facing} (${name})` : `facing ${alert.facing}`);
  }
  if (alert.sku) parts.push(`SKU ${alert.sku}`);
  if (alert.deviceId) {
    const device = state.devices.get(alert.deviceId);
    const what = alert.kind.startsWith('kiosk') ? 'Kiosk' : 'Device';
    parts.push(`${what} ${alert.deviceId}${device && !device.connected ? ' (offline)' : ''}`);
  }
  if (typeof alert.units === 'number') parts.push(plural(alert.units, 'unit'));
  return parts.join(' · ');
}

function alertHistory(alert) {
  const parts = [];
  if (alert.state === 'acknowledged' && alert.acknowledgedBy) parts.push(`acknowledged by ${alert.acknowledgedBy}`);
  if (alert.state === 'snoozed' && alert.snoozedUntil) parts.push(`snoozed until ${formatClock(alert.snoozedUntil)}`);
  return parts.length ? ` · ${parts.join(' · ')}` : '';
}

function alertItem(alert) {
  const pending = state.pendingWrites.has(alert.id);
  const buttons = (ACTIONS_BY_STATE[alert.state] ?? []).map((action) =>
    el(
      'button',
      {
        type: 'button',
        className: `button button--${action}`,
        dataset: { testid: ACTIONS[action].testId, action },
        'aria-disabled': pending ? 'true' : null, // not `disabled`: that would drop keyboard focus
      },
      ACTIONS[action].label,
    ),
  );
  return el(
    'li',
    {
      className: `alert alert--${alert.severity}`,
      'aria-busy': pending ? 'true' : null,
      dataset: { testid: 'alert-item', alertId: alert.id, state: alert.state },
    },
    el(
      'p',
      { className: 'alert__head' },
      el('span', { className: `badge badge--${alert.state}` }, STATE_LABELS[alert.state] ?? alert.state),
      alert.severity === 'critical' ? el('span', { className: 'badge badge--critical' }, 'Critical') : null,
      el('span', { className: 'alert__kind' }, KIND_LABELS[alert.kind] ?? alert.kind),
    ),
    el('h3', { className: 'alert__title' }, alert.title),
    el('p', { className: 'alert__where' }, alertLocation(alert)),
    el('p', { className: 'alert__when' }, 'opened ', ageElement(alert.openedAt), alertHistory(alert)),
    el('div', { className: 'alert__actions', role: 'group', 'aria-label': `Actions for ${alert.title}` }, buttons),
  );
}

function renderAlerts() {
  const list = byId('alerts-list');
  const focused = document.activeElement?.closest?.('[data-testid="alert-item"]');
  const focusedIndex = focused && list.contains(focused) ? [...list.children].indexOf(focused) : -1;
  const focusedId = focusedIndex >= 0 ? focused.dataset.alertId : null;
  const focusedAction = document.activeElement?.dataset?.action;

  const alerts = [...state.alerts.values()].sort(compareAlerts);
  list.replaceChildren(...alerts.map(alertItem));
  byId('alerts-empty').hidden = alerts.length > 0;
  byId('alerts-empty').textContent = 'No active alerts.';
  byId('active-count').textContent = String(alerts.length);
  byId('active-count-label').textContent = alerts.length === 1 ? 'active alert' : 'active alerts';
  document.title = `(${alerts.length}) Store ${state.storeId ?? ''} · staff`;
  if (focusedId) restoreAlertFocus(list, focusedId, focusedAction, focusedIndex);
  renderRecentlyResolved();
}

/** A re-render replaces the buttons; keep keyboard users where they were (or on the next alert if theirs left). */
function restoreAlertFocus(list, alertId, action, index) {
  const items = [...list.children];
  const same = items.find((li) => li.dataset.alertId === alertId);
  const item = same ?? items[Math.min(index, items.length - 1)];
  const target = (same && same.querySelector(`button[data-action="${action}"]`)) ?? item?.querySelector('button');
  (target ?? byId('alerts-heading')).focus();
}

function renderRecentlyResolved() {
  const details = byId('recently-resolved');
  details.hidden = state.recentlyResolved.length === 0;
  byId('resolved-count').textContent = String(state.recentlyResolved.length);
  byId('resolved-list').replaceChildren(
    ...state.recentlyResolved.map((alert) =>
      el(
        'li',
        { dataset: { alertId: alert.id } },
        el('span', { className: 'resolved__title' }, alert.title),
        ' — resolved',
        alert.resolvedBy ? ` by ${alert.resolvedBy} ` : ' ',
        ageElement(alert.resolvedAt ?? alert.updatedAt),
      ),
    ),
  );
}

// ---------- alerts: writes ----------

function actionBody(action) {
  return action === 'snooze' ? { minutes: SNOOZE_MINUTES } : {};
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function runAlertAction(alertId, action) {
  const alert = state.alerts.get(alertId);
  if (!alert || state.pendingWrites.has(alertId)) return;
  state.pendingWrites.add(alertId);
  renderAlerts();
  try {
    const response = await fetch(`/api/alerts/${encodeURIComponent(alertId)}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders() },
      body: JSON.stringify(actionBody(action)),
    });
    const body = await readJson(response);
    const message = body?.message ?? `${response.status} ${response.statusText}`;
    if (response.ok) {
      if (body?.id === alertId && body.state) applyAlert(body);
      showNotice(`${ACTIONS[action].done}: ${alert.title}`);
    } else if (response.status === 401 || response.status === 403) {
      askForToken({ alertId, action }, `Not allowed: ${message.replace(/\.$/, '')}.`);
    } else {
      showNotice(`Could not ${ACTIONS[action].label.toLowerCase()}: ${message}`, 'error');
      if (response.status === 404 || response.status === 409) refreshAlert(alertId);
    }
  } catch {
    showNotice('Could not reach the gateway; try again.', 'error');
  } finally {
    state.pendingWrites.delete(alertId);
    renderAlerts();
  }
}

/** After a 404/409 our copy is stale: take the gateway's. */
async function refreshAlert(alertId) {
  try {
    const response = await fetch(`/api/alerts/${encodeURIComponent(alertId)}`, { headers: authHeaders(), cache: 'no-store' });
    if (response.status === 404) {
      state.alerts.delete(alertId);
      renderAlerts();
    } else if (response.ok) {
      applyAlert(await response.json());
    }
  } catch {
    // the next (re)connect reloads everything
  }
}

function setUpAlertButtons() {
  byId('alerts-list').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    const item = button?.closest('[data-testid="alert-item"]');
    if (button && item) runAlertAction(item.dataset.alertId, button.dataset.action);
  });
}

// ---------- shelves ----------

function applyStock(stock) {
  const key = facingKey(stock.shelfId, stock.facing);
  if (isOlder(stock, state.facings.get(key)?.updatedAt)) return;
  const isNewFacing = !state.facings.has(key);
  state.facings.set(key, stock);
  const row = byId('shelves').querySelector(
    `[data-testid="facing-row"][data-shelf-id="${CSS.escape(stock.shelfId)}"][data-facing="${stock.facing}"]`,
  );
  if (row && !isNewFacing) row.replaceWith(facingRow(stock));
  else renderShelves();
}

function replaceShelves(shelves) {
  state.facings = new Map();
  for (const shelf of shelves) {
    for (const stock of shelf.facings) state.facings.set(facingKey(shelf.id, stock.facing), { ...stock, shelfId: shelf.id });
  }
  renderShelves();
  renderAlerts(); // alert lines name the product of their facing
}

function fillBar(stock) {
  const capacity = Math.max(1, stock.capacityUnits);
  const fill = el('div', { className: 'bar__fill' });
  fill.style.width = `${Math.min(100, ((stock.units ?? 0) / capacity) * 100)}%`;
  const marker = el('div', { className: 'bar__marker', title: `low at ${stock.lowStockUnits}` });
  marker.style.left = `${Math.min(100, (stock.lowStockUnits / capacity) * 100)}%`;
  return el('div', { className: 'bar', 'aria-hidden': 'true' }, fill, marker);
}

function facingRow(stock) {
  const level = facingLevel(stock);
  const units = stock.units ?? '—';
  return el(
    'li',
    {
      className: `facing facing--${level}`,
      title: stock.updatedAt ? `updated ${new Date(stock.updatedAt).toLocaleTimeString()}` : 'no reading yet',
      dataset: { testid: 'facing-row', shelfId: stock.shelfId, facing: stock.facing, level },
    },
    el('span', { className: 'facing__number' }, el('span', { className: 'visually-hidden' }, 'Facing '), String(stock.facing)),
    el(
      'span',
      { className: 'facing__name' },
      el('span', { className: 'facing__product', title: stock.name }, stock.name),
      stock.source === 'sales-estimate' ? el('span', { className: 'tag', title: 'estimated from kiosk sales' }, 'estimated') : null,
    ),
    el(
      'span',
      { className: 'facing__units' },
      `${units} / ${stock.capacityUnits}`,
      el('span', { className: 'visually-hidden' }, ` units, low at ${stock.lowStockUnits}`),
    ),
    fillBar(stock),
    el('span', { className: 'facing__level' }, LEVEL_LABELS[level] ?? level),
  );
}

function shelfCard(shelfId, facings) {
  const device = state.devices.get(shelfId);
  return el(
    'article',
    { className: 'shelf', dataset: { shelfId } },
    el(
      'h3',
      { className: 'shelf__title' },
      `Shelf ${shelfId}`,
      device && !device.connected ? el('span', { className: 'badge badge--offline' }, 'sensor offline') : null,
    ),
    el('ol', { className: 'facings' }, facings.map(facingRow)),
  );
}

function renderShelves() {
  const byShelf = new Map();
  for (const stock of state.facings.values()) {
    if (!byShelf.has(stock.shelfId)) byShelf.set(stock.shelfId, []);
    byShelf.get(stock.shelfId).push(stock);
  }
  const shelfIds = [...byShelf.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  byId('shelves').replaceChildren(
    ...shelfIds.map((id) =>
      shelfCard(
        id,
        byShelf.get(id).sort((a, b) => a.facing - b.facing),
      ),
    ),
  );
  byId('shelves-empty').hidden = shelfIds.length > 0;
  byId('shelves-empty').textContent = 'No shelves in the planogram.';
}

// ---------- devices ----------

function applyDevice({ deviceId, kind, connected }) {
  state.devices.set(deviceId, { kind, connected });
  if (kind === 'shelf') renderShelves();
  if (kind === 'kiosk') renderAlerts();
}

function replaceDevices(devices) {
  state.devices = new Map(devices.map((d) => [d.id, { kind: d.kind, connected: d.connected }]));
}

// ---------- prices: campaign progress and the CSV upload ----------
// Progress comes from the live stream (`campaign` events: counts only) and GET /api/campaigns (managers); the failed
// labels and their reasons need GET /api/campaigns/:id, fetched when a campaign's failed count changes.

function canChangePrices() {
  return PRICE_ROLES.has(state.principal?.role);
}

/** Labels that reached an end state: confirmed, failed, superseded by a newer price, or cancelled. */
function settledLabels(campaign) {
  return SETTLED_LABEL_STATES.reduce((sum, labelState) => sum + (campaign.counts?.[labelState] ?? 0), 0);
}

/** Rounded down, so the page says 100 % only when every label has settled. */
function campaignPercent(campaign) {
  if (!campaign.total) return FINISHED_CAMPAIGN_STATES.has(campaign.state) ? 100 : 0;
  return Math.floor((settledLabels(campaign) / campaign.total) * 100);
}

function formatPrice(cents) {
  return Number.isInteger(cents) ? (cents / 100).toFixed(2) : '?';
}

/** Events and answers may cross: a finished campaign never goes back to running, and settled labels never shrink. */
function isStaleCampaign(incoming, current) {
  if (!current) return false;
  const currentFinished = FINISHED_CAMPAIGN_STATES.has(current.state);
  if (currentFinished && !FINISHED_CAMPAIGN_STATES.has(incoming.state)) return true;
  return current.state === incoming.state && settledLabels(incoming) < settledLabels(current);
}

function campaignOrder(campaign) {
  return campaign.createdAt ?? campaign.firstSeenAt;
}

/** Applies a campaign view (from the API) or a progress event (`campaignId`, state, total, counts). */
function applyCampaign(update, { render = true } = {}) {
  const id = update.id ?? update.campaignId;
  if (typeof id !== 'string' || typeof update.state !== 'string') return;
  const current = state.campaigns.get(id);
  if (isStaleCampaign(update, current)) return;
  const { campaignId: _ignored, ...fields } = update;
  const next = { firstSeenAt: Date.now(), ...current, ...fields, id };
  state.campaigns.set(id, next);
  trimCampaigns();
  // a progress event carries counts only: the failed labels' reasons come from the campaign's view
  const failedChanged = (next.counts?.failed ?? 0) !== (next.failed?.length ?? 0) + (next.failedNotListed ?? 0);
  if (!Array.isArray(update.failed) && failedChanged && canChangePrices()) fetchCampaign(id);
  if (render) renderCampaigns();
}

function trimCampaigns() {
  if (state.campaigns.size <= CAMPAIGNS_SHOWN_MAX) return;
  const oldestFirst = [...state.campaigns.values()].sort((a, b) => campaignOrder(a) - campaignOrder(b));
  for (const campaign of oldestFirst.slice(0, state.campaigns.size - CAMPAIGNS_SHOWN_MAX)) state.campaigns.delete(campaign.id);
}

/** One fetch per campaign at a time; a change that arrived meanwhile fetches again. */
async function fetchCampaign(id) {
  if (state.campaignFetches.has(id)) return;
  state.campaignFetches.add(id);
  let fetched = false;
  try {
    applyCampaign(await getJson(`/api/campaigns/${encodeURIComponent(id)}`));
    fetched = true;
  } catch {
    // the counts stay; the reasons show with the next change or the next load
  } finally {
    state.campaignFetches.delete(id);
  }
  const current = state.campaigns.get(id);
  if (fetched && current && (current.counts?.failed ?? 0) !== (current.failed?.length ?? 0) + (current.failedNotListed ?? 0))
    fetchCampaign(id);
}

async function loadCampaigns() {
  if (!canChangePrices()) return;
  try {
    const { campaigns } = await getJson('/api/campaigns');
    const newest = [...campaigns].sort((a, b) => b.createdAt - a.createdAt).slice(0, CAMPAIGNS_SHOWN_MAX);
    for (const campaign of newest) applyCampaign(campaign, { render: false });
    renderCampaigns();
  } catch {
    // the live stream still brings progress; the list comes with the next hello
  }
}

function campaignCounts(campaign) {
  return Object.entries(LABEL_STATE_LABELS)
    .filter(([labelState]) => labelState === 'confirmed' || labelState === 'failed' || (campaign.counts?.[labelState] ?? 0) > 0)
    .map(([labelState, label]) =>
      el(
        'li',
        { className: `campaign__count campaign__count--${labelState}`, dataset: { testid: 'campaign-count', labelState } },
        `${campaign.counts?.[labelState] ?? 0} ${label}`,
      ),
    );
}

function failedLabels(campaign) {
  const failed = campaign.failed ?? [];
  if (failed.length === 0) return null;
  return el(
    'ul',
    { className: 'campaign__failed', dataset: { testid: 'campaign-failed' } },
    failed.map((label) =>
      el(
        'li',
        { dataset: { testid: 'failed-label', labelId: label.labelId } },
        el('strong', {}, `Label ${label.labelId}`),
        ` (SKU ${label.sku}, ${formatPrice(label.priceCents)}): ${label.reason}`,
      ),
    ),
    campaign.failedNotListed ? el('li', {}, `and ${campaign.failedNotListed} more`) : null,
  );
}

function campaignItem(campaign) {
  const percent = campaignPercent(campaign);
  const settled = settledLabels(campaign);
  const unmapped = campaign.unmappedSkus ?? [];
  const hasFailed = (campaign.counts?.failed ?? 0) > 0;
  return el(
    'li',
    {
      className: `campaign campaign--${campaign.state}${hasFailed ? ' campaign--has-failed' : ''}`,
      dataset: { testid: 'campaign-item', campaignId: campaign.id, state: campaign.state },
    },
    el(
      'p',
      { className: 'campaign__head' },
      el('span', { className: `badge badge--campaign badge--${campaign.state}` }, CAMPAIGN_STATE_LABELS[campaign.state] ?? campaign.state),
      el('span', { className: 'campaign__id' }, campaign.id),
      campaign.createdBy ? el('span', { className: 'campaign__by' }, `by ${campaign.createdBy}`) : null,
      campaign.state === 'scheduled' && Number.isFinite(campaign.effectiveAt)
        ? el('span', {}, `starts ${new Date(campaign.effectiveAt).toLocaleString()}`)
        : null,
    ),
    el(
      'div',
      { className: 'campaign__progress' },
      el('progress', {
        max: Math.max(campaign.total ?? 0, 1),
        value: campaign.total ? settled : percent / 100,
        'aria-label': `${campaign.id}: ${settled} of ${plural(campaign.total ?? 0, 'label')} settled`,
      }),
      el('span', { className: 'campaign__percent', dataset: { testid: 'campaign-percent' } }, `${percent} %`),
    ),
    el(
      'ul',
      { className: 'campaign__counts', 'aria-label': `Labels of ${campaign.id} by state` },
      el('li', { className: 'campaign__count', dataset: { testid: 'campaign-total' } }, plural(campaign.total ?? 0, 'label')),
      campaignCounts(campaign),
    ),
    failedLabels(campaign),
    unmapped.length
      ? el(
          'p',
          { className: 'campaign__note' },
          `No label shows SKU ${unmapped.slice(0, 10).join(', ')}${unmapped.length > 10 ? ` and ${unmapped.length - 10} more` : ''}`,
        )
      : null,
  );
}

function renderCampaigns() {
  const campaigns = [...state.campaigns.values()].sort((a, b) => campaignOrder(b) - campaignOrder(a));
  byId('campaigns-list').replaceChildren(...campaigns.map(campaignItem));
  byId('campaigns-empty').hidden = campaigns.length > 0;
}

/** The upload is offered to managers and admins only; the gateway refuses anyone else all the same. */
function renderPriceControls() {
  const allowed = canChangePrices();
  byId('price-upload').hidden = !allowed;
  if (!allowed) byId('csv-result').hidden = true;
  byId('prices-hint').textContent = allowed
    ? 'Upload a price file to start a campaign; every label is tracked until it shows the new price.'
    : 'Campaign progress shows here. Price files are uploaded by a manager.';
}

function showCsvResult(message, problems = [], kind = 'info') {
  const result = byId('csv-result');
  result.hidden = false;
  result.dataset.kind = kind;
  byId('csv-result-message').textContent = message;
  const shown = problems.slice(0, CSV_PROBLEMS_SHOWN_MAX);
  const items = shown.map((problem) =>
    el(
      'li',
      { dataset: { testid: 'csv-problem', line: problem.line } },
      el('strong', { className: 'csv-problem__line' }, `Line ${problem.line}`),
      `: ${problem.reason}`,
    ),
  );
  if (problems.length > shown.length) items.push(el('li', {}, `and ${problems.length - shown.length} more`));
  byId('csv-problems').replaceChildren(...items);
}

async function uploadPrices(file) {
  const button = byId('price-upload-button');
  state.uploading = true;
  button.setAttribute('aria-disabled', 'true');
  try {
    const response = await fetch('/api/campaigns', {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv', Accept: 'application/json', ...authHeaders() },
      body: await file.text(),
    });
    const body = await readJson(response);
    const message = (body?.message ?? `${response.status} ${response.statusText}`).replace(/\.$/, '');
    if (response.ok) {
      const views = Array.isArray(body?.campaigns) ? body.campaigns : body?.id ? [body] : [];
      for (const view of views) applyCampaign(view, { render: false });
      renderCampaigns();
      const labels = views.reduce((sum, view) => sum + (view.total ?? 0), 0);
      showCsvResult(
        `${file.name}: ${plural(views.length, 'campaign')} started for ${plural(labels, 'label')} (${views.map((view) => view.id).join(', ')}).`,
      );
      byId('price-upload').reset();
    } else if (response.status === 400 && Array.isArray(body?.problems)) {
      showCsvResult(
        `${file.name} was not uploaded — ${plural(body.problems.length, 'bad row')}; nothing changed. Fix them and upload the file again:`,
        body.problems,
        'error',
      );
    } else if (response.status === 401 || response.status === 403) {
      showCsvResult(`Not allowed: ${message}.`, [], 'error');
    } else {
      showCsvResult(`${file.name} was not uploaded: ${message}.`, [], 'error');
    }
  } catch {
    showCsvResult('Could not reach the gateway; try again.', [], 'error');
  } finally {
    state.uploading = false;
    button.removeAttribute('aria-disabled');
  }
}

function setUpPriceUpload() {
  byId('price-upload').addEventListener('submit', (event) => {
    event.preventDefault();
    const file = byId('price-file').files?.[0];
    if (!file || state.uploading) return;
    uploadPrices(file);
  });
}

// ---------- labels: access points with unsupported firmware ----------
// GET /api/labels gives each label its driver's link detail; an access point too old to drive makes every one of its
// labels say `unsupported firmware …`. The page names each such access point once, with how many labels it carries.

/** [{ driverId, detail, labels }] for the drivers whose link detail says their firmware is unsupported, by driver id. */
function unsupportedFirmwareDrivers(labels) {
  const byDriver = new Map();
  for (const label of labels) {
    const detail = label.driverLinkDetail;
    if (!label.driverId || typeof detail !== 'string' || !UNSUPPORTED_FIRMWARE.test(detail)) continue;
    const entry = byDriver.get(label.driverId) ?? { driverId: label.driverId, detail, labels: 0 };
    entry.labels += 1;
    byDriver.set(label.driverId, entry);
  }
  return [...byDriver.values()].sort((a, b) => a.driverId.localeCompare(b.driverId, undefined, { numeric: true }));
}

/** `oepl:<name>` is the OpenEPaperLink access point `<name>` in the labels config. */
function driverName(driverId) {
  return driverId.startsWith('oepl:') ? `Access point ${driverId.slice('oepl:'.length)}` : `Label driver ${driverId}`;
}

function firmwareLine(driver, truncated) {
  const detail = driver.detail.replace(/^(unsupported firmware[^:]*): /i, '$1 — ');
  const count = truncated ? `${driver.labels} or more labels` : plural(driver.labels, 'label');
  return `${driverName(driver.driverId)}: ${detail} (${count})`;
}

function renderLabelFirmware(drivers, truncated) {
  const lines = drivers.slice(0, LABEL_FIRMWARE_SHOWN_MAX).map((driver) => firmwareLine(driver, truncated));
  if (drivers.length > lines.length) lines.push(`and ${plural(drivers.length - lines.length, 'more access point')}`);
  const shown = lines.join('\n');
  if (shown === state.labelFirmwareShown) return;
  state.labelFirmwareShown = shown;
  byId('label-firmware-list').replaceChildren(
    ...lines.map((line, index) => el('li', { dataset: { testid: 'label-firmware-item', driverId: drivers[index]?.driverId } }, line)),
  );
  byId('label-firmware').hidden = lines.length === 0;
}

/** Whether /api/health's labels check names a driver whose link is down for unsupported firmware. */
async function anyDriverFirmwareUnsupported() {
  // 503 while any check is not ok (an access point down is one): the report is in the body either way
  const health = await readJson(await fetch('/api/health', { headers: { Accept: 'application/json' }, cache: 'no-store' }));
  const drivers = health?.checks?.labels?.drivers ?? {};
  return Object.values(drivers).some((link) => typeof link === 'string' && UNSUPPORTED_FIRMWARE.test(link.replace(/^down: /, '')));
}

/** One request at a time; the answer applies only if the same token is still signed in. */
async function loadLabelFirmware() {
  if (state.labelFirmwareLoading || !state.principal) return;
  state.labelFirmwareLoading = true;
  const token = localStorage.getItem(STORAGE_KEYS.token);
  try {
    // the health report names each label driver's link (a few bytes): the whole label list (up to 50,000 labels) is
    // asked for only when a driver there says its firmware is unsupported, to count its labels
    if (!(await anyDriverFirmwareUnsupported())) {
      if (token !== localStorage.getItem(STORAGE_KEYS.token) || !state.principal) return;
      renderLabelFirmware([], false);
      byId('label-firmware').dataset.checkedAt = String(Date.now());
      return;
    }
    const { labels, truncated } = await getJson('/api/labels');
    if (token !== localStorage.getItem(STORAGE_KEYS.token) || !state.principal) return;
    renderLabelFirmware(unsupportedFirmwareDrivers(labels), truncated);
    byId('label-firmware').dataset.checkedAt = String(Date.now());
  } catch (error) {
    // refused, or a gateway without labels: nothing to say; unreachable: keep what shows until the next refresh
    if (error.status || error.signedOut) renderLabelFirmware([], false);
  } finally {
    state.labelFirmwareLoading = false;
  }
}

// ---------- loading and the live stream ----------

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() }, cache: 'no-store' });
  const body = await readJson(response);
  if (response.status === 401) throw Object.assign(new Error(body?.message ?? 'not signed in'), { signedOut: true });
  if (!response.ok) throw Object.assign(new Error(body?.message ?? `${path}: ${response.status}`), { status: response.status });
  return body;
}

function showStoreId(storeId) {
  if (!storeId) return;
  state.storeId = storeId;
  byId('store-id').textContent = storeId;
  renderAlerts();
}

async function loadStoreId() {
  try {
    // 503 (degraded) still carries the store id
    const response = await fetch('/api/health', { cache: 'no-store' });
    showStoreId((await readJson(response))?.storeId);
  } catch {
    // hello brings it too
  }
}

/** Loads alerts and shelves; events that arrive meanwhile are replayed on top. Only the latest load applies. */
async function loadSnapshot() {
  const generation = ++state.snapshotGeneration;
  state.queuedEvents = []; // what came before this request is in its answer
  try {
    const [alerts, shelves, devices] = await Promise.all([
      getJson('/api/alerts?state=active'),
      getJson('/api/shelves'),
      getJson('/api/devices').catch(() => null),
    ]);
    if (generation !== state.snapshotGeneration) return;
    if (devices) replaceDevices(devices.devices);
    replaceShelves(shelves.shelves);
    replaceAlerts(alerts.alerts);
    const queued = state.queuedEvents;
    state.queuedEvents = null;
    for (const [type, data] of queued) applyEvent(type, data);
  } catch (error) {
    if (generation !== state.snapshotGeneration) return;
    if (error.signedOut) {
      state.queuedEvents = null;
      showPrincipal(null);
      askForToken(null, `Not signed in: ${error.message.replace(/\.$/, '')}.`);
      return;
    }
    showNotice(`Could not load data: ${error.message}. Retrying…`, 'error');
    setTimeout(() => {
      if (generation === state.snapshotGeneration) loadSnapshot();
    }, SNAPSHOT_RETRY_MS);
  }
}

function applyEvent(type, data) {
  if (state.queuedEvents) {
    state.queuedEvents.push([type, data]);
    return;
  }
  if (type === 'alert') applyAlert(data, { announce: true });
  else if (type === 'stock') applyStock(data);
  else if (type === 'device') applyDevice(data);
}

/** The header says when events cannot reach HQ (they wait in the store's outbox and are sent later). */
function showRelay(status) {
  const node = byId('hq-state');
  const down = Boolean(status?.enabled && !status.link.up);
  node.hidden = !down;
  node.textContent = down ? `HQ offline since ${status.link.since ? formatClock(Date.parse(status.link.since)) : 'start'}` : '';
}

async function loadRelay() {
  try {
    showRelay(await getJson('/api/relay'));
  } catch {
    // an older gateway or a token without access: no HQ line, nothing else changes
  }
}

function showStreamState(streamState) {
  const node = byId('stream-state');
  node.dataset.state = streamState;
  node.textContent = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' }[streamState];
}

function parseEventData(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return null;
  }
}

/** A one-time ticket for the stream: EventSource cannot send the Authorization header. */
async function streamTicket() {
  const response = await fetch('/api/events/ticket', { method: 'POST', headers: { Accept: 'application/json', ...authHeaders() } });
  const body = await readJson(response);
  if (response.status === 401) throw Object.assign(new Error(body?.message ?? 'not signed in'), { signedOut: true });
  if (!response.ok || typeof body?.ticket !== 'string') throw new Error(body?.message ?? `${response.status}`);
  return body.ticket;
}

/**
 * EventSource retries by itself after a dropped connection, but with the same (used) ticket, which the gateway refuses;
 * after a refused one it gives up, so we reconnect with a new ticket.
 */
async function connectStream(retryMs = 1_000) {
  let ticket;
  try {
    ticket = await streamTicket();
  } catch (error) {
    showStreamState('reconnecting');
    if (error.signedOut) return;
    setTimeout(() => connectStream(Math.min(retryMs * 2, STREAM_RETRY_MAX_MS)), retryMs);
    return;
  }
  state.stream?.close();
  const source = new EventSource(`/api/events?ticket=${encodeURIComponent(ticket)}`);
  state.stream = source;
  source.addEventListener('hello', (event) => {
    retryMs = 1_000;
    showStreamState('live');
    showStoreId(parseEventData(event)?.storeId);
    loadSnapshot();
    loadRelay();
    loadCampaigns();
  });
  for (const type of ['alert', 'stock', 'device']) {
    source.addEventListener(type, (event) => {
      const data = parseEventData(event);
      if (data) applyEvent(type, data);
    });
  }
  source.addEventListener('relay', (event) => showRelay(parseEventData(event)));
  source.addEventListener('campaign', (event) => {
    const data = parseEventData(event);
    if (data) applyCampaign(data);
  });
  source.addEventListener('error', () => {
    if (state.stream !== source) return; // replaced after the token changed
    showStreamState('reconnecting');
    // a dropped stream would be retried by EventSource with the used ticket: close it and take a new one
    source.close();
    state.stream = null;
    setTimeout(() => connectStream(Math.min(retryMs * 2, STREAM_RETRY_MAX_MS)), retryMs);
  });
}

function refreshAges() {
  const now = Date.now();
  for (const node of document.querySelectorAll('time[data-at]')) node.textContent = formatAge(Number(node.dataset.at), now);
}

function start() {
  takeTokenFromFragment();
  window.addEventListener('hashchange', takeTokenFromFragment);
  setUpTokenForm();
  setUpSignOut();
  setUpAlertButtons();
  setUpPriceUpload();
  loadStoreId();
  startSession();
  setInterval(refreshAges, AGE_REFRESH_MS);
  setInterval(loadLabelFirmware, LABEL_FIRMWARE_REFRESH_MS);
}

start();
