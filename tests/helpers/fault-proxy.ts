/**
 * A TCP proxy between the gateway and HQ that fails on demand:
 * - `pass`: forwards both ways;
 * - `cut`: destroys every connection and refuses (accepts and at once closes) new ones — a link that is down;
 * - `black-hole`: keeps connections open and accepts new ones but forwards and answers nothing — a link that hangs;
 * - `slow`: forwards every chunk after `delayMs`, in order.
 * Connections that were black-holed are closed when the mode changes (their streams lost bytes: they are broken).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type FaultMode = 'pass' | 'cut' | 'black-hole' | 'slow';

type Pair = { client: Socket; upstream: Socket | undefined; holed: boolean; tail: Promise<void> };

export type FaultProxy = {
  port: number;
  url: string;
  mode(): FaultMode;
  setMode(mode: FaultMode, options?: { delayMs?: number }): void;
  /** connections accepted so far */
  accepted(): number;
  close(): Promise<void>;
};

export async function startFaultProxy(target: { host?: string; port: number }, scheme = 'mqtt'): Promise<FaultProxy> {
  let mode: FaultMode = 'pass';
  let delayMs = 0;
  let accepted = 0;
  const pairs = new Set<Pair>();
  const destroy = (pair: Pair) => {
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };

  const forward = (pair: Pair, to: () => Socket | undefined, chunk: Buffer) => {
    if (mode === 'black-hole' || pair.holed) {
      pair.holed = true;
      return;
    }
    if (mode === 'slow' && delayMs > 0) {
      pair.tail = pair.tail.then(() => new Promise<void>((r) => setTimeout(r, delayMs))).then(() => void to()?.write(chunk));
      return;
    }
    // keep order behind chunks that are still delayed
    pair.tail = pair.tail.then(() => void to()?.write(chunk));
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, holed: mode === 'black-hole', tail: Promise.resolve() };
    pairs.add(pair);
    client.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    if (!pair.holed) {
      const upstream = connect(target.port, target.host ?? '127.0.0.1');
      pair.upstream = upstream;
      upstream.on('error', () => destroy(pair));
      upstream.on('close', () => destroy(pair));
      upstream.on('data', (chunk) => forward(pair, () => client, chunk));
    }
    client.on('data', (chunk) => forward(pair, () => pair.upstream, chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    mode: () => mode,
    setMode(next, options = {}) {
      delayMs = options.delayMs ?? delayMs;
      if (next === 'cut') for (const pair of [...pairs]) destroy(pair);
      if (mode === 'black-hole' && next !== 'black-hole') for (const pair of [...pairs]) if (pair.holed) destroy(pair);
      if (next === 'black-hole') for (const pair of pairs) pair.holed = true;
      mode = next;
    },
    accepted: () => accepted,
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
