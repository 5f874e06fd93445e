/** JSON Schemas the HTTP plumbing shares with every room's routes: the error shape (docs/http-api.md). */
export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

