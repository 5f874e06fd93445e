// Who is signed in. Every route but /api/health and /api/store needs a staff token; who acknowledged or resolved an
// alert is the token's name, so the page shows who is signed in instead of asking for a name.
import { signal } from '@preact/signals';
import { showNotice } from './notice.js';

const TOKEN_KEY = 'smartstore.staffToken';
/** Roles that may change things beyond alerts (prices, campaigns, devices); the gateway checks again on every write. */
const MANAGING_ROLES: ReadonlySet<string> = new Set(['manager', 'admin']);

export type Principal = { name: string; role: string };

/** The signed-in token's name and role (GET /api/whoami); null while nobody is signed in. */
export const principal = signal<Principal | null>(null);

/**
 * Set while the page asks for a token: why (shown to the person), and what to do once one is given (the write that
 * was refused, retried as that person). The header's sign-in form shows while this is set.
 */
export type TokenRequest = { message: string; then?: () => void };
export const tokenRequest = signal<TokenRequest | null>(null);

export function storedToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string): void {
  localStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  localStorage.removeItem(TOKEN_KEY);
}

/** `#token=...` in the address moves to localStorage and out of the address bar (and history); true when there was one. */
export function takeTokenFromFragment(): boolean {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return false;
  storeToken(token);
  history.replaceState(history.state, '', location.pathname + location.search);
  return true;
}

/** Shows the sign-in form with why; `then` runs once a token is given and the person is signed in (a refused write). */
export function askForToken(message: string, then?: () => void): void {
  tokenRequest.value = then ? { message, then } : { message };
  showNotice(`${message} Enter your staff token to continue.`, 'error');
}

/** Managers and admins change prices, campaigns and devices; everyone else sees them. */
export function canManage(): boolean {
  const role = principal.value?.role;
  return role !== undefined && MANAGING_ROLES.has(role);
}
