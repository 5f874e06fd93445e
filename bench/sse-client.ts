/** A small Server-Sent Events reader over fetch, for the live stream `/api/events` of the gateway. */

export type SseEvent = { event: string; data: string; receivedAt: number };

export class SseClient {
  private readonly controller = new AbortController();
  private listeners: ((event: SseEvent) => void)[] = [];
  private done: Promise<void> | undefined;

  onEvent(listener: (event: SseEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves once the response headers arrived (the stream is open); events then flow to the listeners. */
  async open(url: string, token?: string): Promise<void> {
    const response = await fetch(url, {
      signal: this.controller.signal,
      headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    this.done = (async () => {
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        const receivedAt = performance.now();
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.dispatch(block, receivedAt);
        }
      }
    })();
  }

  private dispatch(block: string, receivedAt: number): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    const parsed: SseEvent = { event, data: data.join('\n'), receivedAt };
    for (const listener of this.listeners) listener(parsed);
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
