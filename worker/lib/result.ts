// shim: removed at merge
/**
 * The Durable Objects' old refusal model, kept only until their split
 * branches (which use `errors.ts`) are merged. Its `Refusal` is an
 * `errors.ts` refusal plus a `status` the Worker ignores (`unwrap` answers
 * with `STATUS[code]`), so the Worker already reads both shapes alike.
 */
import type { RefusalCode } from "../errors";

export type Refusal = { ok: false; status: 400 | 401 | 403 | 404 | 409; code: RefusalCode; message: string };
export type Result<T> = { ok: true; value: T } | Refusal;

export class RefusedError extends Error {
  constructor(
    readonly status: Refusal["status"],
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/** Runs `fn`, turning a RefusedError into a Refusal; anything else still throws. */
export async function attempt<T>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof RefusedError) return { ok: false, status: err.status, code: err.code, message: err.message };
    throw err;
  }
}
