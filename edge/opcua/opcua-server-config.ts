/**
 * `opcua.server` in the gateway config: the store as an OPC UA address space for HQ tools and store IT. Off by
 * default; when on, only SignAndEncrypt endpoints, no anonymous access and no users unless configured — the secure
 * defaults (`default:` on each option).
 */
import { Type, type Static } from 'typebox';
import { Nullable } from '../core/schema.js';

/** `scrypt$<N>$<salt base64>$<hash base64>`, as `hashOpcuaPassword()` writes it (opcua-users.ts). */
export const SCRYPT_HASH_PATTERN = '^scrypt\\$[0-9]+\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$';

export const OpcuaUserSchema = Type.Object(
  {
    username: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$' }),
    passwordHash: Type.Optional(
      Type.String({ pattern: SCRYPT_HASH_PATTERN, description: 'scrypt hash of the password (see README: Connect an OPC UA client)' }),
    ),
    passwordEnv: Type.Optional(
      Type.String({ pattern: '^[A-Z_][A-Z0-9_]{0,127}$', description: 'name of an environment variable holding the password instead' }),
    ),
  },
  {
    additionalProperties: false,
    // a user without a secret could never log in: check-config names it (strict Ajv wants each required property
    // declared in the same schema object, hence the repetition)
    anyOf: [
      { properties: { passwordHash: { type: 'string' } }, required: ['passwordHash'] },
      { properties: { passwordEnv: { type: 'string' } }, required: ['passwordEnv'] },
    ],
  },
);

export const OpcuaServerConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'serve the store as an OPC UA address space', default: false }),
    host: Type.String({ minLength: 1, description: 'interface to listen on', default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 4840 }),
    hostname: Nullable(
      Type.String({
        minLength: 1,
        description: "host name in the endpoint URL and the server certificate; null: this machine's name",
        default: null,
      }),
    ),
    allowAnonymous: Type.Boolean({
      description: 'let clients in without a user name (read-only: methods still need a user)',
      default: false,
    }),
    allowUnsecured: Type.Boolean({
      description: 'also offer security mode None (no signing, no encryption); passwords are still encrypted with the server certificate',
      default: false,
    }),
    scalesNodeset: Type.Boolean({
      description:
        'load OPC 40200 Scales V2 (and DI, IA, Machinery, PackML) so facing weights are WeightItemType; costs start-up time and memory',
      default: false,
    }),
    maxSessions: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
    users: Type.Array(OpcuaUserSchema, {
      maxItems: 100,
      description: 'who may log in: user name and scrypt hash, or a password from the environment',
      default: [],
    }),
  },
  { additionalProperties: false, default: {} },
);

export type OpcuaServerConfig = Static<typeof OpcuaServerConfigSchema>;
export type OpcuaUserConfig = Static<typeof OpcuaUserSchema>;
