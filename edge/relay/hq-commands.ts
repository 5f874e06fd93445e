/**
 * Commands from HQ (`<prefix>/<storeId>/commands/#`): JSON `{ id, type, ... }` or the same command as a structured
 * CloudEvent (`commandFromCloudEvent`), checked against a schema per type and
 * run by the handler registered for the type (edge/main.ts registers the labels room's `price-campaign` and `label-flash`). Idempotent by
 * `id`: the result is recorded in `hq_commands` before it is reported, and a command seen before is answered with
 * the recorded result without running its handler again. Every result goes back to HQ as a critical
 * `store.command.result` event through the outbox. Malformed commands are `rejected` (when an id can be read), logged
 * rate-limited, and never crash anything.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Logger } from 'pino';
import { Type, type Static, type TSchema } from 'typebox';
import { LogThrottle } from '../core/log-throttle.js';
import type { SqliteDatabase } from '../storage/database.js';

export const COMMAND_RESULT_EVENT_TYPE = 'store.command.result';

const CommandId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$' });

export const PriceCampaignCommandSchema = Type.Object(
  {
    id: CommandId,
    type: Type.Literal('price-campaign'),
    campaignId: Type.String({ minLength: 1, maxLength: 128 }),
    prices: Type.Array(
      Type.Object(
        { sku: Type.String({ minLength: 1, maxLength: 64 }), priceCents: Type.Integer({ minimum: 0, maximum: 100_000_000 }) },
        { additionalProperties: false },
      ),
      {
        minItems: 1,
        maxItems: 100_000,
      },
    ),
    /** RFC 3339; absent = now */
    startsAt: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** what staff and store IT call the campaign ("Week 12 offers"); absent = its id */
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
  },
  { additionalProperties: false },
);

export const LabelFlashCommandSchema = Type.Object(
  {
    id: CommandId,
    type: Type.Literal('label-flash'),
    labels: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 10_000 }),
    durationS: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  },
  { additionalProperties: false },
);

export const ConfigReloadCommandSchema = Type.Object(
  { id: CommandId, type: Type.Literal('config-reload') },
  { additionalProperties: false },
);

export const COMMAND_SCHEMAS = {
  'price-campaign': PriceCampaignCommandSchema,
  'label-flash': LabelFlashCommandSchema,
  'config-reload': ConfigReloadCommandSchema,
} as const satisfies Record<string, TSchema>;

export type HqCommandType = keyof typeof COMMAND_SCHEMAS;
export type HqCommand = { [K in HqCommandType]: Static<(typeof COMMAND_SCHEMAS)[K]> }[HqCommandType];
export type HqCommandOf<K extends HqCommandType> = Static<(typeof COMMAND_SCHEMAS)[K]>;

export type CommandOutcome = 'ok' | 'failed' | 'unsupported' | 'rejected';

/** What a handler answers: its outcome and, for HQ, whatever detail it has (campaign id, labels reached, …). */
export type HandlerResult = { outcome: 'ok' | 'failed'; detail?: unknown; reason?: string };

export type CommandHandler<K extends HqCommandType> = (command: HqCommandOf<K>) => Promise<HandlerResult>;

/** The `data` of a `store.command.result` event. */
export type CommandResult = {
  commandId: string;
  commandType: string;
  outcome: CommandOutcome;
  reason?: string;
  detail?: unknown;
  /** ms since epoch when the store first received the command */
  receivedAt: number;
};

/** The record of commands seen, by id (`hq_commands` in the main database). Bounded: the newest `maxRows` are kept. */
export class HqCommandStore {
  private insertsSincePrune = 0;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly maxRows = 100_000,
  ) {}

  async get(id: string): Promise<CommandResult | undefined> {
    const row = await this.db.get<{ result: string }>('SELECT result FROM hq_commands WHERE id = ?', [id]);
    return row ? (JSON.parse(row.result) as CommandResult) : undefined;
  }

  async put(result: CommandResult): Promise<void> {
    await this.db.run('INSERT OR IGNORE INTO hq_commands (id, type, result, received_at) VALUES (?, ?, ?, ?)', [
      result.commandId,
      result.commandType,
      JSON.stringify(result),
      result.receivedAt,
    ]);
    // pruning per insert would cost a scan per command; every hundredth keeps the table within maxRows + 100
    if (++this.insertsSincePrune >= 100) {
      this.insertsSincePrune = 0;
      await this.db.run('DELETE FROM hq_commands WHERE rowid <= (SELECT MAX(rowid) FROM hq_commands) - ?', [this.maxRows]);
    }
  }
}

export type HqCommandsDeps = {
  store: Pick<HqCommandStore, 'get' | 'put'>;
  /** sends a `store.command.result` event to HQ (durable once resolved) */
  report: (result: CommandResult) => Promise<void>;
  now: () => number;
  log: Logger;
  /** counted per outcome (metrics) */
  onOutcome?: (outcome: CommandOutcome, replay: boolean) => void;
};

const MAX_COMMAND_BYTES = 4 * 1024 * 1024;

export class HqCommands {
  private readonly handlers = new Map<HqCommandType, CommandHandler<HqCommandType>>();
  private readonly validators: Record<HqCommandType, ValidateFunction>;
  /** commands being run, by id: a second delivery while the first runs waits for it instead of running it again */
  private readonly running = new Map<string, Promise<CommandResult>>();
  private readonly logThrottle: LogThrottle;

  constructor(private readonly deps: HqCommandsDeps) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    this.validators = Object.fromEntries(Object.entries(COMMAND_SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)])) as Record<
      HqCommandType,
      ValidateFunction
    >;
    this.logThrottle = new LogThrottle({ burst: 5, windowMs: 60_000, maxKeys: 100 }, deps.now);
  }

  /** The room that can carry out `type` registers here; until one does, such commands are reported `unsupported`. */
  registerHandler<K extends HqCommandType>(type: K, handler: CommandHandler<K>): () => void {
    if (this.handlers.has(type)) throw new Error(`a handler for HQ command ${type} is registered already`);
    this.handlers.set(type, handler);
    return () => this.handlers.delete(type);
  }

  /**
   * One MQTT message from HQ (with its PUBLISH properties: a binary-mode CloudEvent has its attributes there). Resolves
   * once its result is recorded and reported; never rejects for a bad command.
   */
  async receive(topic: string, payload: Buffer, properties: CommandProperties = {}): Promise<CommandResult | undefined> {
    const receivedAt = this.deps.now();
    const parsed = this.parse(payload, properties);
    if (parsed.kind === 'unreadable') {
      this.warn('unreadable', { topic, reason: parsed.reason }, 'HQ command without a readable id ignored');
      this.deps.onOutcome?.('rejected', false);
      return undefined;
    }
    const { id } = parsed;
    const inProgress = this.running.get(id);
    if (inProgress) return inProgress;
    // bounded by what HQ may have in flight to us (its Receive Maximum toward the store), plus this entry
    const work = this.run(parsed, receivedAt).finally(() => this.running.delete(id));
    this.running.set(id, work);
    return work;
  }

  private async run(parsed: Exclude<Parsed, { kind: 'unreadable' }>, receivedAt: number): Promise<CommandResult> {
    const previous = await this.deps.store.get(parsed.id);
    if (previous) {
      // a replay: HQ gets the same answer again (the result event has the same id, so HQ dedupes it), nothing runs
      this.deps.onOutcome?.(previous.outcome, true);
      await this.deps.report(previous);
      return previous;
    }
    let result: CommandResult;
    if (parsed.kind === 'invalid') {
      this.warn('invalid', { commandId: parsed.id, commandType: parsed.type, reason: parsed.reason }, 'HQ command rejected');
      result = { commandId: parsed.id, commandType: parsed.type, outcome: 'rejected', reason: parsed.reason, receivedAt };
    } else {
      result = await this.execute(parsed.command, receivedAt);
    }
    await this.deps.store.put(result);
    this.deps.onOutcome?.(result.outcome, false);
    await this.deps.report(result);
    this.deps.log.info({ commandId: result.commandId, commandType: result.commandType, outcome: result.outcome }, 'HQ command done');
    return result;
  }

  private async execute(command: HqCommand, receivedAt: number): Promise<CommandResult> {
    const base = { commandId: command.id, commandType: command.type, receivedAt };
    const handler = this.handlers.get(command.type);
    if (!handler) return { ...base, outcome: 'unsupported', reason: `this store cannot carry out ${command.type} commands yet` };
    try {
      const answer = await handler(command);
      return {
        ...base,
        outcome: answer.outcome,
        ...(answer.reason ? { reason: answer.reason } : {}),
        ...(answer.detail === undefined ? {} : { detail: answer.detail }),
      };
    } catch (error) {
      this.warn('handler', { commandId: command.id, commandType: command.type, err: error }, 'HQ command handler failed');
      return { ...base, outcome: 'failed', reason: (error as Error)?.message ?? String(error) };
    }
  }

  private parse(payload: Buffer, properties: CommandProperties): Parsed {
    if (payload.length > MAX_COMMAND_BYTES) return { kind: 'unreadable', reason: `larger than ${MAX_COMMAND_BYTES} bytes` };
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      return { kind: 'unreadable', reason: 'not JSON' };
    }
    const binary = binaryModeEnvelope(properties, value);
    if (binary) value = binary;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'unreadable', reason: 'not a JSON object' };
    let record = value as Record<string, unknown>;
    // a plain command never has `specversion` (its schema forbids unknown fields): this one is a CloudEvent
    if (Object.hasOwn(record, 'specversion')) {
      const unwrapped = commandFromCloudEvent(record);
      if ('reason' in unwrapped) {
        if (unwrapped.id === undefined) return { kind: 'unreadable', reason: unwrapped.reason };
        return { kind: 'invalid', id: unwrapped.id, type: unwrapped.type, reason: unwrapped.reason };
      }
      record = unwrapped.command;
      value = record;
    }
    const id = record.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return { kind: 'unreadable', reason: 'no id' };
    const type = typeof record.type === 'string' ? record.type.slice(0, 64) : '';
    if (!Object.hasOwn(COMMAND_SCHEMAS, type))
      return { kind: 'invalid', id, type, reason: type ? `unknown command type ${type}` : 'no type' };
    const validate = this.validators[type as HqCommandType];
    if (!validate(value)) return { kind: 'invalid', id, type, reason: describe(validate.errors ?? []) };
    return { kind: 'valid', id, command: value as HqCommand };
  }

  private warn(key: string, fields: Record<string, unknown>, message: string): void {
    const suppressed = this.logThrottle.admit(key);
    if (suppressed >= 0) this.deps.log.warn({ ...fields, suppressed }, message);
  }
}

/** The MQTT 5 properties of a command PUBLISH that say what its payload is (forwarder.ts passes them on). */
export type CommandProperties = { contentType?: string; userProperties?: Record<string, string | string[]> };

/**
 * A CloudEvent in binary content mode (CloudEvents MQTT Protocol Binding 1.0, §3.1: MQTT 5 only; every attribute a User
 * Property of its name, Content Type = `datacontenttype`, the payload = `data`) as the structured envelope it stands for;
 * undefined when the user properties do not carry `specversion` (then the payload is the whole message).
 */
export function binaryModeEnvelope(properties: CommandProperties, data: unknown): Record<string, unknown> | undefined {
  const user = properties.userProperties;
  if (!user || !Object.hasOwn(user, 'specversion')) return undefined;
  const envelope: Record<string, unknown> = {};
  // a property sent twice arrives as an array: the first value is the attribute
  for (const [name, value] of Object.entries(user)) envelope[name] = Array.isArray(value) ? value[0] : value;
  if (properties.contentType !== undefined) envelope.datacontenttype = properties.contentType;
  envelope.data = data;
  return envelope;
}

const COMMAND_EVENT_TYPE = /(?:^|\.)command\.([a-z][a-z0-9-]{0,63})$/;

/**
 * A command sent as a structured CloudEvent (CloudEvents 1.0 JSON format; on MQTT 5 with Content Type
 * `application/cloudevents+json`, though the payload alone decides): `id` is the command's id, `type` ends with
 * `command.<command type>` (e.g. `com.smartstore.command.price-campaign`, any reverse-DNS prefix HQ uses), `data` holds
 * the command's other fields. Returns the plain command the schemas check, or why it is none (with the id, when
 * readable, so that HQ gets a `rejected` result).
 */
export type UnwrappedCommand = { command: Record<string, unknown> } | { id?: string; type: string; reason: string };

export function commandFromCloudEvent(event: Record<string, unknown>): UnwrappedCommand {
  const id = typeof event.id === 'string' && event.id.length > 0 && event.id.length <= 128 ? event.id : undefined;
  if (id === undefined) return { type: '', reason: 'CloudEvent without an id' };
  const ceType = typeof event.type === 'string' ? event.type.slice(0, 256) : '';
  const commandType = COMMAND_EVENT_TYPE.exec(ceType)?.[1];
  const type = commandType ?? ceType.slice(0, 64);
  if (event.specversion !== '1.0') return { id, type, reason: "CloudEvent specversion must be '1.0'" };
  if (typeof event.source !== 'string' || event.source.length === 0) return { id, type, reason: 'CloudEvent without a source' };
  if (commandType === undefined) {
    return { id, type, reason: `CloudEvent type ${ceType || '(none)'} is not <prefix>.command.<command type>` };
  }
  const contentType = event.datacontenttype;
  if (contentType !== undefined && (typeof contentType !== 'string' || !/^application\/json\s*(;|$)/i.test(contentType))) {
    return { id, type, reason: 'CloudEvent datacontenttype must be application/json' };
  }
  const data = event.data ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { id, type, reason: 'CloudEvent data must be a JSON object' };
  }
  // the envelope's id and type are the command's: a copy in data cannot contradict them
  return { command: { ...(data as Record<string, unknown>), id, type: commandType } };
}

type Parsed =
  | { kind: 'unreadable'; reason: string }
  | { kind: 'invalid'; id: string; type: string; reason: string }
  | { kind: 'valid'; id: string; command: HqCommand };

function describe(errors: readonly ErrorObject[]): string {
  return errors
    .slice(0, 5)
    .map((e) => {
      const what = e.keyword === 'additionalProperties' ? `unknown field ${String(e.params.additionalProperty)}` : (e.message ?? e.keyword);
      return `${e.instancePath || '/'} ${what}`;
    })
    .join('; ');
}
