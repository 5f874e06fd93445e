// The page's frame: the header (store, stream state, HQ link, who is signed in), the sign-in form, the notice line,
// the tab bar and the current view. The views are listed once, in VIEWS; each is one file under views/.
import type { ComponentType } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { alerts, alertOpened, liveProblem, relay, signOut, startLive, startSession, storeId, streamState } from './live.js';
import { formatClock, plural } from './format.js';
import { notice } from './notice.js';
import { followHash, route, routeHref } from './route.js';
import { principal, storeToken, takeTokenFromFragment, tokenRequest } from './session.js';
import { AlertsView } from './views/alerts.js';
import { MapView } from './views/map.js';
import { PickListView } from './views/pick-list.js';
import { LabelsView } from './views/labels.js';
import { DevicesView } from './views/devices.js';
import { CampaignsView } from './views/campaigns.js';
import { KpisView } from './views/kpis.js';
import { labelsNeedingAttention, watchLabelAttention } from './views/labels/label-attention.js';

export type ViewEntry = { id: string; title: string; component: ComponentType };

/** The tabs, in order; the first is the default. `#/<id>` shows one. */
export const VIEWS: readonly ViewEntry[] = [
  { id: 'alerts', title: 'Alerts', component: AlertsView },
  { id: 'map', title: 'Store map', component: MapView },
  { id: 'pick-list', title: 'Pick list', component: PickListView },
  { id: 'labels', title: 'Labels', component: LabelsView },
  { id: 'devices', title: 'Devices', component: DevicesView },
  { id: 'campaigns', title: 'Campaigns', component: CampaignsView },
  { id: 'kpis', title: 'KPIs', component: KpisView },
];

const STREAM_STATE_WORDS = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const;

function currentView(): ViewEntry {
  return VIEWS.find((view) => view.id === route.value.viewId) ?? VIEWS[0]!;
}

function Header() {
  const link = relay.value;
  const hqDown = Boolean(link?.enabled && !link.link.up);
  const since = link?.link.since ? Date.parse(link.link.since) : NaN;
  const active = alerts.value.size;
  const who = principal.value;
  return (
    <header class="topbar">
      <h1 class="topbar__title">
        Store <span data-testid="store-id">{storeId.value ?? '…'}</span>
      </h1>
      <p class="topbar__stream">
        <span class="stream" data-testid="stream-state" data-state={streamState.value}>
          {STREAM_STATE_WORDS[streamState.value]}
        </span>
      </p>
      {hqDown && (
        <p class="topbar__hq" data-testid="hq-state" role="status">
          HQ offline since {Number.isFinite(since) ? formatClock(since) : 'start'}
        </p>
      )}
      <p class="topbar__count">
        <span data-testid="active-count">{active}</span> {active === 1 ? 'active alert' : 'active alerts'}
      </p>
      <p class="topbar__name">
        Signed in as <strong data-testid="signed-in-as">{who ? `${who.name} (${who.role})` : 'not signed in'}</strong>
        {who && (
          <button type="button" data-testid="sign-out" class="button button--quiet button--on-dark" onClick={signOut}>
            Sign out
          </button>
        )}
      </p>
    </header>
  );
}

function SignInForm() {
  const request = tokenRequest.value;
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (request) input.current?.focus();
  }, [request]);
  if (!request) return null;
  const submit = async (event: Event) => {
    event.preventDefault();
    const token = input.current?.value.trim();
    if (!token) return;
    storeToken(token);
    tokenRequest.value = null;
    if ((await startSession()) && request.then) request.then();
  };
  return (
    <form class="token-form" data-testid="token-form" onSubmit={submit}>
      <label for="token-input">Your staff token</label>
      <input id="token-input" ref={input} name="token" type="password" autocomplete="off" spellcheck={false} required />
      <button type="submit" class="button button--primary">
        Sign in
      </button>
      <button type="button" class="button button--quiet" onClick={() => (tokenRequest.value = null)}>
        Cancel
      </button>
    </form>
  );
}

function NoticeLine() {
  const shown = notice.value;
  const problem = liveProblem.value;
  const message = shown?.message ?? problem;
  return (
    <div class="notice" data-testid="notice" data-kind={shown?.kind ?? 'error'} role="status" aria-live="polite" hidden={!message}>
      {message}
    </div>
  );
}

/** Read out when an alert opens: the list itself is not a live region (it would read every re-order). */
function AlertAnnouncer() {
  const opened = alertOpened.value;
  const what = opened?.alert.severity === 'critical' ? 'critical alert' : 'alert';
  return (
    <div class="visually-hidden" aria-live="assertive">
      {opened ? `${opened.reopened ? 'Reopened' : 'New'} ${what}: ${opened.alert.title}` : ''}
    </div>
  );
}

function Nav({ current }: { current: ViewEntry }) {
  const active = alerts.value.size;
  const labelProblems = labelsNeedingAttention.value ?? 0;
  useEffect(() => watchLabelAttention(), []);
  return (
    <nav class="tabs" aria-label="Views">
      <ul class="tabs__list">
        {VIEWS.map((view) => (
          <li key={view.id}>
            <a
              class="tabs__tab"
              href={routeHref(view.id)}
              data-testid={`tab-${view.id}`}
              aria-current={view.id === current.id ? 'page' : undefined}
            >
              {view.title}
              {view.id === 'alerts' && active > 0 && (
                <span class="tabs__count" aria-label={plural(active, 'active alert')}>
                  {active}
                </span>
              )}
              {view.id === 'labels' && labelProblems > 0 && (
                <span
                  class="tabs__count"
                  data-testid="labels-attention"
                  aria-label={`${plural(labelProblems, 'label needs', 'labels need')} attention`}
                >
                  {labelProblems}
                </span>
              )}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function App() {
  useEffect(() => {
    takeTokenFromFragment();
    const onHash = () => {
      // a `#token=` link while the page is open signs in as that token
      if (takeTokenFromFragment()) void startSession();
      followHash();
    };
    window.addEventListener('hashchange', onHash);
    startLive();
    followHash();
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const view = currentView();
  useEffect(() => {
    // an unknown or empty view (`#`, an old bookmark) shows the first view: say so in the address, so filters the
    // view writes there go after its id
    const { viewId, query } = route.value;
    if (viewId !== view.id && !location.hash.startsWith('#token=')) {
      history.replaceState(history.state, '', routeHref(view.id, query));
      followHash();
    }
  }, [route.value, view.id]);
  const previousViewId = useRef(view.id);
  useEffect(() => {
    // a tab change moves keyboard and screen-reader users to the new view's heading
    if (previousViewId.current !== view.id) document.getElementById('view-heading')?.focus();
    previousViewId.current = view.id;
  }, [view.id]);

  const active = alerts.value.size;
  useEffect(() => {
    document.title = `(${active}) ${view.title} · Store ${storeId.value ?? ''} · staff`;
  }, [active, view.title, storeId.value]);

  const View = view.component;
  return (
    <>
      <Header />
      <SignInForm />
      <NoticeLine />
      <AlertAnnouncer />
      <Nav current={view} />
      <main class="layout">
        <View />
      </main>
    </>
  );
}
