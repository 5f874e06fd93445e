import { describe, expect, it } from 'vitest';
import { OpcuaUserConfigError, OpcuaUserDirectory, hashOpcuaPassword } from '../../../edge/opcua/opcua-users.js';

describe('OPC UA server users', () => {
  it('accepts the right password of a hashed user and refuses a wrong one or an unknown user', async () => {
    const passwordHash = await hashOpcuaPassword('s3cret', 1024);
    expect(passwordHash).toMatch(/^scrypt\$1024\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    const users = await OpcuaUserDirectory.fromConfig([{ username: 'hq', passwordHash }], {});
    expect(users.size).toBe(1);
    expect(await users.verify('hq', 's3cret')).toBe(true);
    expect(await users.verify('hq', 's3cret ')).toBe(false);
    expect(await users.verify('nobody', 's3cret')).toBe(false);
  });

  it('takes a password from the environment variable the config names, hashed at start', async () => {
    const users = await OpcuaUserDirectory.fromConfig([{ username: 'demo', passwordEnv: 'DEMO_PW' }], { DEMO_PW: 'from-env' }, 1024);
    expect(await users.verify('demo', 'from-env')).toBe(true);
    expect(await users.verify('demo', 'DEMO_PW')).toBe(false);
  });

  it('refuses to start with a user nobody could log in as, naming every such user', async () => {
    const error = await OpcuaUserDirectory.fromConfig(
      [
        { username: 'a', passwordEnv: 'UNSET_VARIABLE' },
        { username: 'b', passwordHash: 'scrypt$1000$abc$def' }, // N not a power of two
        { username: 'c' },
        { username: 'd', passwordHash: await hashOpcuaPassword('x', 1024) },
        { username: 'd', passwordHash: await hashOpcuaPassword('y', 1024) },
      ],
      {},
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpcuaUserConfigError);
    expect((error as OpcuaUserConfigError).issues).toEqual([
      'user a: environment variable UNSET_VARIABLE is not set',
      'user b: passwordHash is not scrypt$N$salt$hash',
      'user c has neither passwordHash nor passwordEnv',
      'user d is listed twice',
    ]);
  });
});
