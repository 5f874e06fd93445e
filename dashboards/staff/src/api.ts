// The gateway's JSON API with the staff token. Errors carry the gateway's own words (its `message`), so a view shows
// "Not allowed: this needs the manager role" rather than "403".
import { askForToken, storedToken } from './session.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
    /** the answer's body, for routes that say more than a message (a CSV's bad rows) */
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** 401: no token or a revoked one; 403: the token's role may not do this */
  get refused(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** status 0: the gateway could not be reached at all (network down, gateway restarting) */
export const UNREACHABLE = 0;

export type RequestOptions = {
  signal?: AbortSignal;
  /** on 401/403, what to do once the person has given a token (retry the write as them) */
  retryAfterSignIn?: () => void;
  /** a refusal is this caller's to explain (a view probing what the role may see): no sign-in form */
  quietRefusal?: boolean;
};

export function authHeaders(): Record<string, string> {
  const token = storedToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return (await response.json()) as unknown;
  } catch {
    return null;
  }
}

function messageOf(body: unknown, response: Response): string {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : `${response.status} ${response.statusText}`.trim();
}

async function request<T>(method: string, path: string, body: unknown, options: RequestOptions): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : typeof body === 'string' ? { 'Content-Type': 'text/csv' } : { 'Content-Type': 'application/json' }),
        ...authHeaders(),
      },
      cache: 'no-store',
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(UNREACHABLE, 'could not reach the gateway', path);
  }
  const answer = await readJson(response);
  if (response.ok) return answer as T;
  const error = new ApiError(response.status, messageOf(answer, response), path, answer);
  if (error.refused && !options.quietRefusal) {
    const why = error.message.replace(/\.$/, '');
    askForToken(response.status === 401 ? `Not signed in: ${why}.` : `Not allowed: ${why}.`, options.retryAfterSignIn);
  }
  throw error;
}

/** GET a JSON answer; throws ApiError (status 0 when unreachable). */
export function getJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return request<T>('GET', path, undefined, options);
}

/** POST/PUT/PATCH/DELETE with a JSON body (or a CSV text: a string body is sent as text/csv); throws ApiError. */
export function sendJson<T>(
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  return request<T>(method, path, body, options);
}
