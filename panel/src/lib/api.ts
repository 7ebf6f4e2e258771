/**
 * HTTP client for the panel: one `request` helper over `fetch` and a typed
 * function per endpoint. Every error becomes an `HttpError` carrying the
 * server's `{ error: { code, message } }` so forms can show it as is.
 */
import type { ApiError, ConversationState, MeResponse, Operator, SetupStatus } from "../../../worker/protocol";

/** A failed request: `status` 0 means the network itself failed. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

let unauthorized: (() => void) | null = null;

/**
 * Called when a request that needs a session answers 401: the cookie expired
 * or the operator was removed. The session store turns it into the login screen.
 */
export function onUnauthorized(handler: (() => void) | null): void {
  unauthorized = handler;
}

const FALLBACK: Record<number, string> = {
  400: "The request was not valid.",
  401: "Please sign in.",
  403: "You are not allowed to do that.",
  404: "Not found.",
  409: "That conflicts with the current state.",
  413: "That is too large.",
};

async function request<T>(
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
  opts: { authProbe?: boolean } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers:
        body === undefined
          ? { accept: "application/json" }
          : { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new HttpError(0, "network", "Could not reach the server. Check your connection and try again.");
  }
  const text = res.status === 204 ? "" : await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (data as Partial<ApiError> | null)?.error;
    if (res.status === 401 && !opts.authProbe) unauthorized?.();
    throw new HttpError(
      res.status,
      typeof err?.code === "string" ? err.code : `http_${res.status}`,
      typeof err?.message === "string" && err.message
        ? err.message
        : (FALLBACK[res.status] ?? `Request failed (${res.status}).`),
    );
  }
  return data as T;
}

const enc = encodeURIComponent;

export const api = {
  setupStatus: () => request<SetupStatus>("GET", "/api/setup", undefined, { authProbe: true }),
  setup: (body: { name: string; email: string; password: string }) =>
    request<MeResponse>("POST", "/api/setup", body, { authProbe: true }),

  login: (body: { email: string; password: string }) =>
    request<MeResponse>("POST", "/api/auth/login", body, { authProbe: true }),
  logout: () => request<void>("POST", "/api/auth/logout", undefined, { authProbe: true }),
  me: () => request<MeResponse>("GET", "/api/auth/me", undefined, { authProbe: true }),

  operators: () => request<{ operators: Operator[] }>("GET", "/api/operators"),
  addOperator: (body: { name: string; email: string; password: string; admin: boolean }) =>
    request<{ operator: Operator }>("POST", "/api/operators", body),
  removeOperator: (id: string) => request<void>("DELETE", `/api/operators/${enc(id)}`),

  conversation: (id: string) => request<{ state: ConversationState }>("GET", `/api/conversations/${enc(id)}`),
  join: (id: string) => request<{ state: ConversationState }>("POST", `/api/conversations/${enc(id)}/join`),
  leave: (id: string) => request<{ state: ConversationState }>("POST", `/api/conversations/${enc(id)}/leave`),
};

/** A message fit for the UI from anything thrown. */
export function errorText(e: unknown): string {
  if (e instanceof HttpError) return e.message;
  return "Something went wrong. Please try again.";
}
