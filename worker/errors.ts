/**
 * One refusal model for the whole Worker: routes, Durable Objects, sockets.
 *
 * A refusal is a `Refused` (code + message a person can act on). Its HTTP
 * status comes from its code, here and nowhere else. Inside a Durable Object
 * a refusal is thrown as `Refused` and turned into a `Result` at the RPC
 * boundary by `attempt` (an Error's class does not survive RPC, so refusals
 * travel as data); the Worker calls `unwrap`, which throws it again for the
 * one `onError` to answer as `{ error: { code, message } }`. Socket handlers
 * send the same code and message as an `error` frame. Anything that is not a
 * refusal is a bug: logged with where it happened, answered 500 with no detail.
 */
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ErrorCode as FrameErrorCode } from "./protocol";
import { logError } from "./lib/log";

/** Every refusal code, with the HTTP status it is answered with. */
export const STATUS = {
  bad_request: 400,
  bad_json: 400,
  bad_frame: 400,
  bad_multipart: 400,
  empty_file: 400,
  unknown_field: 400,
  unknown_type: 400,
  cannot_remove_self: 400,
  validation_error: 400,
  no_email: 400,
  no_sender: 400,
  unauthorized: 401,
  bad_credentials: 401,
  token_expired: 401,
  forbidden: 403,
  cross_site: 403,
  bad_origin: 403,
  not_found: 404,
  unknown_site: 404,
  method_not_allowed: 405,
  already_set_up: 409,
  email_taken: 409,
  conflict: 409,
  deleted: 410,
  length_required: 411,
  too_large: 413,
  too_large_for_email: 413,
  unsupported_media_type: 415,
  file_type_not_allowed: 415,
  upgrade_required: 426,
  rate_limited: 429,
  internal: 500,
} as const satisfies Record<string, number>;

export type RefusalCode = keyof typeof STATUS;

// Every code a socket's error frame can carry is a refusal code too.
type Missing = Exclude<FrameErrorCode, RefusalCode>;
const _framesCovered: Missing extends never ? true : Missing = true;
void _framesCovered;

/** A refusal: the request or frame is not done, and `message` says why in words. */
export class Refused extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly extra: { retryAfterMs?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "Refused";
  }

  get status(): (typeof STATUS)[RefusalCode] {
    return STATUS[this.code];
  }
}

/** Throws a refusal (a statement, so TypeScript knows the code after it is unreachable). */
export function refuse(code: RefusalCode, message: string, extra?: Refused["extra"]): never {
  throw new Refused(code, message, extra);
}

/** What a Durable Object's refusable RPC returns. */
export type Result<T> = { ok: true; value: T } | { ok: false; code: RefusalCode; message: string };

/** Runs an RPC body inside a Durable Object, turning a `Refused` into a refusal `Result`; bugs still throw. */
export async function attempt<T>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

/** The Worker's side of `attempt`: the value, or the refusal thrown again for `onError`. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Refused(result.code, result.message);
  return result.value;
}

/** The one error body of every route, panel and REST alike: `{ error: { code, message } }`. */
export function errorResponse(status: number, code: string, message: string, headers?: HeadersInit): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

/** The response for a refusal. */
export function refusalResponse(err: Refused): Response {
  const headers: Record<string, string> = { ...err.extra.headers };
  if (err.extra.retryAfterMs !== undefined) headers["Retry-After"] = String(Math.ceil(err.extra.retryAfterMs / 1000));
  return errorResponse(err.status, err.code, err.message, headers);
}

const CODE_OF_STATUS: Partial<Record<number, RefusalCode>> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/**
 * The response for anything a handler, middleware or validator threw.
 * Hono's own HTTPExceptions (malformed JSON, a body limit, a media-type gate)
 * carry a status and plain text; they get the JSON error shape here too.
 */
export function errorFromException(err: unknown, request: Request): Response {
  if (err instanceof Refused) return refusalResponse(err);
  if (err instanceof HTTPException) {
    if (err.res?.headers.get("Content-Type")?.startsWith("application/json")) return err.getResponse();
    const status = err.status;
    if (status === 400 && /json/i.test(err.message)) return errorResponse(400, "bad_json", "Body is not valid JSON");
    if (status === 415)
      return errorResponse(415, "unsupported_media_type", "Send JSON (Content-Type: application/json)");
    return errorResponse(status, CODE_OF_STATUS[status] ?? "error", err.message || "Request refused");
  }
  logError("request.failed", { method: request.method, path: new URL(request.url).pathname }, err);
  return errorResponse(500, "internal", "Something went wrong");
}

/** `app.onError`: one place that answers every error. */
export const onError: ErrorHandler = (err, c) => errorFromException(err, c.req.raw);
