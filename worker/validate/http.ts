/**
 * Reading a request through a schema. The panel's routes call `readBody`;
 * `/api/v1` validates with `valid` (@hono/zod-validator, failures answered by
 * `validationHook`). Both report a schema's first problem in its own words;
 * the panel's routes answer `bad_request` (or `unknown_field`), `/api/v1`
 * answers `validation_error`, as each has always done.
 */
import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import type * as z from "zod";
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
 * How `/api/v1` answers a schema failure (params, query, body):
 * `{ error: { code: "validation_error", message } }`, the message naming the
 * field. Malformed JSON (an HTTPException of Hono's validator) and a wrong
 * media type (`jsonOnly`) are answered in the same shape by `errors.onError`.
 */
export function validationHook(
  result: { success: true } | { success: false; error: z.core.$ZodError },
): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return errorResponse(STATUS.validation_error, "validation_error", `${where}${issue?.message ?? "invalid input"}`);
}

/** `/api/v1`'s validator of one part of a request (`query`, `param` or `json`) by `schema`, failures answered by `validationHook`. */
export const valid = <T extends "query" | "param" | "json", S extends z.ZodType>(target: T, schema: S) =>
  zValidator(target, schema, validationHook);
