// The page's one notice line ("Acknowledged: Oat milk empty", "Could not reach the gateway"), shown for a while.
import { signal } from '@preact/signals';

export type NoticeKind = 'info' | 'error';
export type Notice = { message: string; kind: NoticeKind; id: number };

const SHOWN_MS: Record<NoticeKind, number> = { info: 5_000, error: 10_000 };

export const notice = signal<Notice | null>(null);

let timer: ReturnType<typeof setTimeout> | undefined;
let lastId = 0;

export function showNotice(message: string, kind: NoticeKind = 'info'): void {
  const shown = { message, kind, id: ++lastId };
  notice.value = shown;
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (notice.value === shown) notice.value = null;
  }, SHOWN_MS[kind]);
}
