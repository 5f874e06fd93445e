import { readFile, stat } from 'node:fs/promises';

export class SecretFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'SecretFileError';
  }
}

/**
 * Reads a file that holds a secret (a token, a password, a private key). A secret file other users of the machine can
 * read (or write) is refused, not used: it would not stay a secret.
 */
export async function readSecretFile(path: string): Promise<Buffer> {
  let mode: number;
  let content: Buffer;
  try {
    mode = (await stat(path)).mode;
    content = await readFile(path);
  } catch (error) {
    throw new SecretFileError(path, `cannot read the secret file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if ((mode & 0o007) !== 0) {
    throw new SecretFileError(
      path,
      `the secret file ${path} is accessible to other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it (or 640 with a group)`,
    );
  }
  return content;
}
