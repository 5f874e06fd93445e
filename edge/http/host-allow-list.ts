import { isIP } from 'node:net';

/**
 * Whether a request's `Host` header names this gateway. A DNS-rebinding page reaches the API under the attacker's own
 * domain name, resolved to a store address; it can never send an IP literal or `localhost` as Host. So the API answers
 * IP literals, `localhost` and the names store IT listed (`http.allowedHosts`), and nothing else.
 */
export function hostAllowed(host: string | undefined, allowedNames: ReadonlySet<string>): boolean {
  if (!host) return false;
  const name = hostName(host).toLowerCase();
  if (name === '' || name.length > 253) return false;
  return isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || allowedNames.has(name);
}

/** `example.com:8080` → `example.com`, `[::1]:8080` → `::1`. */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? '' : host.slice(1, end);
  }
  const colon = host.indexOf(':');
  // more than one colon and no brackets: not a valid Host header
  if (colon >= 0 && host.indexOf(':', colon + 1) >= 0) return '';
  return colon < 0 ? host : host.slice(0, colon);
}
