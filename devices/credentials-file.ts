/**
 * The credentials file the simulator connects with: which store, which broker, and each provisioned device's
 * secret. The demo writes it after provisioning; `simulate --credentials` reads it.
 *
 * ```json
 * { "storeId": "store-0042", "brokerUrl": "mqtt://127.0.0.1:1883",
 *   "devices": [{ "deviceId": "shelf-01", "kind": "shelf", "secret": "…" }] }
 * ```
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { DEVICE_ID_PATTERN, DEVICE_KINDS, type DeviceKind } from '../edge/device-registry/topics.js';

export type DeviceCredential = { deviceId: string; kind: DeviceKind; secret: string };
export type CredentialsFile = { storeId: string; brokerUrl: string; devices: DeviceCredential[] };

export class CredentialsFileError extends Error {
  constructor(
    readonly path: string,
    /** one line per problem, each starting with its JSON pointer */
    readonly problems: string[],
  ) {
    super(`credentials file ${path} is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'CredentialsFileError';
  }
}

export const credentialsFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['storeId', 'brokerUrl', 'devices'],
  properties: {
    // The store id is a topic level, so it follows the device id rules.
    storeId: { type: 'string', pattern: DEVICE_ID_PATTERN },
    brokerUrl: { type: 'string', pattern: '^(mqtts?|tcp|tls|ssl|wss?)://\\S+$' },
    devices: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['deviceId', 'kind', 'secret'],
        properties: {
          deviceId: { type: 'string', pattern: DEVICE_ID_PATTERN },
          kind: { enum: DEVICE_KINDS },
          secret: { type: 'string', minLength: 1, maxLength: 256 },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validateCredentials = ajv.compile<CredentialsFile>(credentialsFileSchema);

export async function readCredentialsFile(path: string): Promise<CredentialsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CredentialsFileError(path, [code === 'ENOENT' ? 'file not found' : `cannot read file: ${(err as Error).message}`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the error, which may be a secret: keep only the position.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new CredentialsFileError(path, [position ? `not valid JSON (at character ${position})` : 'not valid JSON']);
  }
  return checkCredentials(data, path);
}

/** Validates and writes the file atomically, readable by its owner only (it holds secrets). */
export async function writeCredentialsFile(path: string, credentials: CredentialsFile): Promise<void> {
  checkCredentials(credentials, path);
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporaryPath, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    await rename(temporaryPath, path);
  } catch (err) {
    await rm(temporaryPath, { force: true });
    throw err;
  }
}

/** Returns the credentials typed, or throws CredentialsFileError listing every problem. */
export function checkCredentials(data: unknown, path: string): CredentialsFile {
  if (!validateCredentials(data)) {
    throw new CredentialsFileError(path, (validateCredentials.errors ?? []).map(describeSchemaError));
  }
  const problems: string[] = [];
  const firstIndex = new Map<string, number>();
  data.devices.forEach((device, index) => {
    const first = firstIndex.get(device.deviceId);
    if (first === undefined) firstIndex.set(device.deviceId, index);
    else problems.push(`/devices/${index}/deviceId: duplicate device id "${device.deviceId}" (first at /devices/${first})`);
  });
  if (problems.length > 0) throw new CredentialsFileError(path, problems);
  return data;
}

function describeSchemaError(error: ErrorObject): string {
  const at = error.instancePath || '/';
  switch (error.keyword) {
    case 'required':
      return `${at === '/' ? '' : at}/${String(error.params.missingProperty)}: is required`;
    case 'additionalProperties':
      return `${at === '/' ? '' : at}/${String(error.params.additionalProperty)}: unknown property`;
    case 'enum':
      return `${at}: must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    case 'pattern':
      return `${at}: must match ${String(error.params.pattern)}`;
    default:
      return `${at}: ${error.message ?? error.keyword}`;
  }
}
