/**
 * Pieces of `/api/v1`'s route declarations: how parameters are read from the
 * query string, which error responses an operation documents, the body
 * limit. With the schemas of `wire.ts` and `bodies.ts` these are both the
 * validation and the OpenAPI document.
 */
import { z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { errorResponse, STATUS } from "../errors";
import { ErrorBody, Id } from "./wire";

/** Largest JSON body any /api/v1 route reads. */
const MAX_BODY_BYTES = 64 * 1024;

const problems = {
  400: "Invalid input",
  401: "Missing, invalid, revoked or expired credentials",
  403: "Not allowed: admins (or an admin-scoped token) only, a read-scoped token for a change, join first, or a cross-site request",
  404: "Unknown id",
  413: `Body larger than ${MAX_BODY_BYTES / 1024} KiB`,
  415: "Body is not JSON (Content-Type: application/json)",
} as const;
type Problem = keyof typeof problems;

/**
 * The error responses one operation can give, each `{ error: { code, message } }`.
 * Listed per operation, exactly: test/openapi-conformance.test.ts makes every
 * listed status happen and refuses any status the document does not list.
 */
export function errors<S extends Problem>(...statuses: S[]) {
  const out = {} as {
    [K in S]: { description: string; content: { "application/json": { schema: typeof ErrorBody } } };
  };
  for (const status of statuses) {
    out[status] = { description: problems[status], content: { "application/json": { schema: ErrorBody } } };
  }
  return out;
}

/** A JSON response of `schema`. */
export const json = <T extends z.ZodType>(schema: T, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});

/**
 * A whole number in the query string. Not `z.coerce.number()`: that reads ""
 * and null as 0, and the OpenAPI generator, which probes a schema with null
 * and undefined, then documented such parameters as nullable and optional
 * (`from` of the report looked optional but was required).
 */
export const queryInt = (n: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === "string" && /^-?\d{1,16}$/.test(v) ? Number(v) : v), n);

/** A paging cursor: absent, empty or `null` (as generated clients send a null) all mean the first page. */
export const cursor = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" || v === "null" ? null : v), schema.nullable()).optional();

/**
 * The body limit of the operations that read one; runs after authentication,
 * so a stranger's body is never read. The longest valid body (a 4,000-character
 * message, every character escaped) is well under it.
 */
export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => errorResponse(STATUS.too_large, "too_large", `Body is larger than ${MAX_BODY_BYTES / 1024} KiB`),
});

/**
 * A JSON request body. `required` matters beyond the document: without it
 * zod-openapi lets a request with no Content-Type through unvalidated, as `{}`.
 */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

/** The `{id}` path parameter. */
export const idParam = z.object({ id: Id.openapi({ param: { name: "id", in: "path" } }) });

/** Either credential works on every operation: an API token or the panel's session cookie. */
export const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];
