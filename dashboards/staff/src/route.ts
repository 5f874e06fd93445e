// Which view shows, and its filters, kept in the address's hash (`#/alerts?kind=low-stock`): a reload or a bookmark
// keeps them, and the browser's back button goes back through them. `#token=...` is not a route (session.ts takes it).
import { signal } from '@preact/signals';

export type Route = { viewId: string; query: URLSearchParams };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const at = path.indexOf('?');
  const viewId = (at < 0 ? path : path.slice(0, at)) || '';
  return { viewId, query: new URLSearchParams(at < 0 ? '' : path.slice(at + 1)) };
}

export function routeHref(viewId: string, query?: URLSearchParams): string {
  const search = query?.toString() ?? '';
  return `#/${viewId}${search ? `?${search}` : ''}`;
}

export const route = signal<Route>(parseRoute(location.hash));

/** Called on hashchange (app.tsx). */
export function followHash(): void {
  route.value = parseRoute(location.hash);
}

/** Replaces the current view's query (filters) without a new history entry per chip tapped. */
export function replaceQuery(query: URLSearchParams): void {
  const href = routeHref(route.value.viewId, query);
  history.replaceState(history.state, '', href);
  route.value = parseRoute(href);
}
