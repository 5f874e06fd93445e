/**
 * A bare aedes broker on port 0 for the simulator tests: checks device credentials like the gateway does
 * (client id = username, password = secret) and captures every message published under `store/`.
 */
import net from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { Ajv, type ValidateFunction } from 'ajv';
import { INBOUND_SCHEMAS } from '../../edge/device-registry/schemas.js';
import { parseDeviceTopic } from '../../edge/device-registry/topics.js';

export type CapturedMessage = {
  topic: string;
  deviceId: string;
  /** `<kind>/<channel>` */
  key: string;
  qos: number;
  payload: Record<string, unknown>;
};

export class TestBroker {
  readonly messages: CapturedMessage[] = [];

  private constructor(
    private readonly broker: Aedes,
    private readonly server: net.Server,
    readonly url: string,
    /** client ids refused at CONNECT */
    readonly rejectedClientIds: readonly string[],
  ) {}

  static async start(secrets: Record<string, string>): Promise<TestBroker> {
    const rejected: string[] = [];
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        if (username !== undefined && username === client.id && secrets[username] === password?.toString('utf8')) {
          done(null, true);
          return;
        }
        rejected.push(client.id);
        const error = Object.assign<Error, Pick<AuthenticateError, 'returnCode'>>(new Error('bad username or password'), { returnCode: 4 });
        done(error, false);
      },
    });
    const server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const testBroker = new TestBroker(broker, server, `mqtt://127.0.0.1:${port}`, rejected);
    await new Promise<void>((resolve) =>
      broker.subscribe(
        'store/#',
        (packet, callback) => {
          const parsed = parseDeviceTopic(packet.topic);
          // Only what devices publish; commands are the tests' own input.
          if (parsed && parsed.channel !== 'cmd') {
            testBroker.messages.push({
              topic: packet.topic,
              deviceId: parsed.deviceId,
              key: `${parsed.kind}/${parsed.channel}`,
              qos: packet.qos,
              payload: JSON.parse(packet.payload.toString()) as Record<string, unknown>,
            });
          }
          callback();
        },
        resolve,
      ),
    );
    return testBroker;
  }

  get connectedClients(): number {
    return this.broker.connectedClients;
  }

  /** Publishes as the gateway would (e.g. a command to a label). */
  publish(topic: string, payload: string | object): Promise<void> {
    return new Promise((resolve, reject) =>
      this.broker.publish(
        {
          cmd: 'publish',
          topic,
          payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
          qos: 1,
          retain: false,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  from(deviceId: string, key?: string): CapturedMessage[] {
    return this.messages.filter((message) => message.deviceId === deviceId && (key === undefined || message.key === key));
  }

  /** Resolves with the first captured message (past or future) matching `predicate`. */
  async waitFor(predicate: (message: CapturedMessage) => boolean, timeoutMs = 2_000): Promise<CapturedMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms (${this.messages.length} captured)`);
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds; fails the test after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const ajv = new Ajv({ allErrors: true });
const validators = new Map<string, ValidateFunction>(Object.entries(INBOUND_SCHEMAS).map(([key, schema]) => [key, ajv.compile(schema)]));

/** Schema problems of a captured message ([] when it follows the device contract). */
export function contractProblems(message: CapturedMessage): string[] {
  const validate = validators.get(message.key);
  if (!validate) return [`${message.topic}: no schema for ${message.key}`];
  return validate(message.payload) ? [] : [`${message.topic}: ${ajv.errorsText(validate.errors)}`];
}
