/**
 * Results of Durable Object RPC calls that can be refused. Errors thrown
 * inside a Durable Object cross RPC as plain `Error`s (their class is lost),
 * so refusals travel as data and the Worker turns them into HTTP statuses.
 */
export type Refusal = { ok: false; status: 400 | 401 | 403 | 404 | 409; code: string; message: string };
export type Result<T> = { ok: true; value: T } | Refusal;

export class RefusedError extends Error {
  constructor(
    readonly status: Refusal["status"],
    readonly code: string,
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
