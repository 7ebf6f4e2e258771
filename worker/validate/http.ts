/**
 * Reading a request body through a schema. The panel's routes call
 * `readBody`; `/api/v1` (zod-openapi) uses `validationHook`. Both report a
 * schema's first problem in its own words; the panel's routes answer
 * `bad_request` (or `unknown_field`), `/api/v1` answers `validation_error`,
 * as each has always done.
 */
import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { errorResponse, refuse, STATUS } from "../errors";

/** Largest JSON body a panel route reads unless it says otherwise. */
const DEFAULT_MAX_BYTES = 8 * 1024;

/** The words of a schema failure: an unknown field first (it is what the sender must fix), else the first issue. */
function firstProblem(error: z.ZodError): { unknownField: string | null; message: string } {
  const unknown = error.issues.find((i) => i.code === "unrecognized_keys");
  if (unknown && unknown.code === "unrecognized_keys")
    return { unknownField: unknown.keys[0]!, message: `Unknown field: ${unknown.keys[0]}` };
  const issue = error.issues[0];
  return { unknownField: null, message: issue?.message ?? "invalid input" };
}

/** `value` checked by `schema`, or a `bad_request` / `unknown_field` refusal. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problem = firstProblem(result.error);
  return refuse(problem.unknownField === null ? "bad_request" : "unknown_field", problem.message);
}

/**
 * A JSON object body of at most `maxBytes`. `allowPlainText` is for the
 * widget loader's cross-site calls only: a `text/plain` "simple request" (no
 * preflight; `sendBeacon`) is how those are sent.
 */
export async function readJson(
  c: Context,
  { maxBytes = DEFAULT_MAX_BYTES, allowPlainText = false } = {},
): Promise<Record<string, unknown>> {
  const type = (c.req.header("Content-Type") ?? "").toLowerCase();
  const ok = type.startsWith("application/json") || (allowPlainText && type.startsWith("text/plain"));
  if (!ok) refuse("unsupported_media_type", "Send JSON (Content-Type: application/json)");
  const declared = Number(c.req.header("Content-Length") ?? 0);
  if (declared > maxBytes) refuse("too_large", `Body is larger than ${maxBytes} bytes`);
  const text = await c.req.text();
  if (text.length > maxBytes) refuse("too_large", `Body is larger than ${maxBytes} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    refuse("bad_json", "Body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    refuse("bad_request", "Body must be a JSON object");
  return body as Record<string, unknown>;
}

/** A JSON body read and checked by `schema` (see `readJson` and `parse`). */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  options?: Parameters<typeof readJson>[1],
): Promise<z.output<S>> {
  return parse(schema, await readJson(c, options));
}

/**
 * zod-openapi's `defaultHook` for `/api/v1`: every schema failure (params,
 * query, body) becomes `{ error: { code: "validation_error", message } }`,
 * the message naming the field. Malformed JSON and a wrong media type are
 * HTTPExceptions that `errors.onError` answers in the same shape.
 */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError },
): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return errorResponse(STATUS.validation_error, "validation_error", `${where}${issue?.message ?? "invalid input"}`);
}
