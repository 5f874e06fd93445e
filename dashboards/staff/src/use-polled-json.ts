// The one way a view keeps an answer of the gateway fresh that the live stream does not carry (labels, devices,
// KPIs): read at once, again every `refreshMs`, one request at a time (a slow gateway is not asked again while it
// works), at once when the path changes (the running request dropped) and when the view calls `reload()` (again after
// `followUpMs` if given: what a change starts shows a moment later). `path` null: nobody signed in, nothing read.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson } from './api.js';

export type PolledJson<T> = {
  /** the last answer, kept while the next one loads (null until the first) */
  data: T | null;
  /** the path `data` answers: a view whose address changed can tell the rows shown from the rows asked for */
  dataPath: string | null;
  /** why the last read failed, in words (null after a good one) */
  problem: string | null;
  loadedAt: number | null;
  reload: () => void;
  /** changes `data` in place (a change's answer shown before the next read brings the rest) */
  update: (change: (data: T) => T) => void;
};

export type PollOptions = {
  refreshMs: number;
  /** what is read, for the problem line: "Devices" → "Devices could not be loaded: …" */
  what: string;
  /** a 401/403 leaves the sign-in form alone (a role that may not read this) */
  quietRefusal?: boolean;
  followUpMs?: number;
  /** a change of it reads again at once (who is signed in: another person may see other rows) */
  readAgainFor?: string | undefined;
};

export function usePolledJson<T>(path: string | null, options: PollOptions): PolledJson<T> {
  const [state, setState] = useState<{ data: T | null; dataPath: string | null; problem: string | null; loadedAt: number | null }>({
    data: null,
    dataPath: null,
    problem: null,
    loadedAt: null,
  });
  const [reloads, setReloads] = useState(0);
  const followUp = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const { refreshMs, what, quietRefusal, followUpMs, readAgainFor } = options;

  useEffect(() => {
    if (path === null) return;
    let running: AbortController | null = null;
    const load = () => {
      if (running) return;
      const abort = (running = new AbortController());
      getJson<T>(path, { signal: abort.signal, ...(quietRefusal ? { quietRefusal } : {}) })
        .then(
          (data) => setState({ data, dataPath: path, problem: null, loadedAt: Date.now() }),
          (error: unknown) => {
            if (abort.signal.aborted) return;
            const why = error instanceof ApiError ? error.message : 'try again';
            setState((current) => ({ ...current, problem: `${what} could not be loaded: ${why}.` }));
          },
        )
        .finally(() => {
          if (running === abort) running = null;
        });
    };
    load();
    const timer = setInterval(load, refreshMs);
    return () => {
      clearInterval(timer);
      running?.abort();
    };
  }, [path, reloads, refreshMs, what, quietRefusal, readAgainFor]);

  useEffect(() => () => clearTimeout(followUp.current), []);
  const reload = useCallback(() => {
    setReloads((n) => n + 1);
    clearTimeout(followUp.current);
    if (followUpMs !== undefined) followUp.current = setTimeout(() => setReloads((n) => n + 1), followUpMs);
  }, [followUpMs]);
  const update = useCallback((change: (data: T) => T) => {
    setState((current) => (current.data === null ? current : { ...current, data: change(current.data) }));
  }, []);

  return { ...state, reload, update };
}
