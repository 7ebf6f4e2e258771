/**
 * Pieces of `/api/v1`'s operations (`operations.ts`): how parameters are read
 * from the query string, which error responses an operation documents, the
 * body limit and the JSON-only gate. With the schemas of `wire.ts` and
 * `bodies.ts` these are both the validation (routes/v1.ts) and, at build time,
 * the OpenAPI document (scripts/openapi.mjs).
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as z from "zod";
import { errorResponse, refuse, STATUS } from "../errors";
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

/** A JSON request body (required: routes/v1.ts reads it through `jsonOnly` and the schema). */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

/** The `{id}` path parameter (the document's generator names it from the path's `{id}`). */
export const idParam = z.object({ id: Id });

/** Either credential works on every operation: an API token or the panel's session cookie. */
export const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

/** A JSON media type (`application/json`, `application/vnd.x+json`), with well-formed parameters only (`; charset=utf-8`). */
const JSON_TYPE = /^application\/([a-z-\.]+\+)?json(;\s*[a-zA-Z0-9\-]+\=([^;]+))*$/i;

/** Whether the request carries at least one byte of body (read from a copy, so the body stays readable). */
async function hasBody(c: Context): Promise<boolean> {
  const raw = c.req.raw;
  if (raw.body === null) return false;
  if (raw.bodyUsed) return (await c.req.arrayBuffer()).byteLength > 0;
  const copy = raw.clone().body;
  if (copy === null) return false;
  const reader = copy.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return false;
      if (value.byteLength > 0) return true;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Before a JSON body is validated. Hono's validator reads a body only when it
 * is declared JSON and validates `{}` otherwise, so JSON sent as text/plain
 * would be refused for "missing" fields; this answers 415 instead, naming the
 * real problem (any other Content-Type, or a body sent without one). A request
 * with neither goes on, and the schema refuses the missing fields (400): the
 * answers these routes have always given.
 */
export const jsonOnly: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("Content-Type");
  if (type ? !JSON_TYPE.test(type) : await hasBody(c))
    refuse("unsupported_media_type", "Send JSON (Content-Type: application/json)");
  await next();
};
