/** Schemas the HTTP plumbing shares with every room's routes, in TypeBox: the error shape (docs/http-api.md). */
import { Type } from 'typebox';

/** Every 4xx/5xx answer: what the error and not-found handlers and the routes send. */
export const errorSchema = Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String() });
