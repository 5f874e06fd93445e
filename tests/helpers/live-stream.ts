/** Reads the gateway's live stream (`/api/events`, Server-Sent Events) in a test: every event parsed, in order. */
import { request } from 'node:http';
import { TEST_TOKEN } from './test-gateway.js';

export type LiveEvent = { event: string; data: unknown };

/** Opens the stream with the admin test token; `ready` resolves at the gateway's `hello`. */
export function openLiveStream(url: string, token = TEST_TOKEN): { events: LiveEvent[]; close: () => void; ready: Promise<void> } {
  const events: LiveEvent[] = [];
  let close = () => undefined as void;
  const ready = new Promise<void>((resolve, reject) => {
    const req = request(`${url}/api/events`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          if (event === 'hello') resolve();
        }
      });
    });
    req.on('error', reject);
    req.end();
    close = () => void req.destroy();
  });
  ready.catch(() => undefined);
  return { events, close: () => close(), ready };
}
