/**
 * HTTP client for the panel: one `request` helper over `fetch` and a typed
 * function per endpoint, plus `upload` over XMLHttpRequest for attachments.
 * Every error becomes an `HttpError` carrying the server's
 * `{ error: { code, message } }` so forms can show it as is.
 */
import type {
  ApiError,
  ApiTokenInfo,
  AuditPage,
  Channel,
  ConversationState,
  MeResponse,
  Message,
  Operator,
  OperatorReportResponse,
  PresenceStatus,
  SetupStatus,
  TokenScope,
  UploadResponse,
  VisitorInfo,
  VisitorThreadsResponse,
  WebhookDeliveryInfo,
  WebhookEvent,
  WebhookInfo,
  WorkspaceSettings,
} from "../../../worker/protocol";

/** A failed request: `status` 0 means the network itself failed. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** From a 429's Retry-After: how long until the server takes this request again. */
    readonly retryAfterMs: number | null = null,
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
  411: "The upload could not be sent.",
  413: "That is too large.",
  415: "This kind of file is not allowed.",
  429: "Too many tries. Please wait a moment and try again.",
};

const enc = encodeURIComponent;

const NETWORK_ERROR = "Could not reach the server. Check your connection and try again.";

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The `HttpError` for a non-2xx answer; reports an expired session unless this was a probe. */
function failure(status: number, retryAfterHeader: string | null, data: unknown, authProbe: boolean): HttpError {
  const err = (data as Partial<ApiError> | null)?.error;
  if (status === 401 && !authProbe) unauthorized?.();
  const retryAfter = Number(retryAfterHeader ?? "");
  return new HttpError(
    status,
    typeof err?.code === "string" ? err.code : `http_${status}`,
    typeof err?.message === "string" && err.message ? err.message : (FALLBACK[status] ?? `Request failed (${status}).`),
    retryAfter > 0 ? retryAfter * 1000 : null,
  );
}

async function request<T>(
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
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
    throw new HttpError(0, "network", NETWORK_ERROR);
  }
  const data = parseBody(res.status === 204 ? "" : await res.text());
  if (!res.ok) throw failure(res.status, res.headers.get("Retry-After"), data, opts.authProbe === true);
  return data as T;
}

/**
 * Sends one file to a conversation as multipart/form-data. XMLHttpRequest,
 * not fetch, because only it reports upload progress. Aborting `signal`
 * rejects with code "aborted".
 */
function upload(
  conversationId: string,
  file: File,
  clientId: string,
  opts: { onProgress?: (fraction: number) => void; signal?: AbortSignal; channel?: Channel } = {},
): Promise<UploadResponse> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new HttpError(0, "aborted", "The upload was cancelled."));
    const form = new FormData();
    form.append("clientId", clientId);
    // On the email channel the file goes out to the visitor as a mail attachment.
    if (opts.channel === "email") form.append("channel", "email");
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/conversations/${enc(conversationId)}/files`);
    xhr.setRequestHeader("accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && e.total > 0) opts.onProgress?.(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      const data = parseBody(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as UploadResponse);
      else reject(failure(xhr.status, xhr.getResponseHeader("Retry-After"), data, false));
    });
    xhr.addEventListener("error", () => reject(new HttpError(0, "network", NETWORK_ERROR)));
    xhr.addEventListener("abort", () => reject(new HttpError(0, "aborted", "The upload was cancelled.")));
    opts.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

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
  /** Ends every session of the signed-in operator, this one included. */
  signOutEverywhere: () => request<{ ended: number }>("DELETE", "/api/operators/me/sessions"),
  /** Ends every session of another operator (admins). */
  endSessions: (id: string) => request<{ ended: number }>("DELETE", `/api/operators/${enc(id)}/sessions`),

  conversation: (id: string) => request<{ state: ConversationState }>("GET", `/api/conversations/${enc(id)}`),
  join: (id: string) => request<{ state: ConversationState }>("POST", `/api/conversations/${enc(id)}/join`),
  leave: (id: string) => request<{ state: ConversationState }>("POST", `/api/conversations/${enc(id)}/leave`),
  /** Deletes a conversation for good: messages, files and visitor data. */
  deleteConversation: (id: string) => request<void>("DELETE", `/api/conversations/${enc(id)}`),
  /**
   * Sends a reply over HTTP (/api/v1, with the panel's cookie) when its window is gone: `clientId` makes a resend
   * store it once (see stores/kept-replies.ts). A 401 here does not sign the panel out: the reply is kept until the
   * operator is signed in again, and a signed-out tab says so through its own requests.
   */
  sendReply: (id: string, body: { text: string; channel: Channel; clientId: string }) =>
    request<{ message: Message }>("POST", `/api/v1/conversations/${enc(id)}/messages`, body, { authProbe: true }),
  upload,
  /** What is known about the conversation's visitor: location, pages, browser, IP. */
  visitor: (id: string) => request<{ visitor: VisitorInfo }>("GET", `/api/conversations/${enc(id)}/visitor`),
  /** The visitor's other conversations, by the same email address. */
  visitorThreads: (id: string) => request<VisitorThreadsResponse>("GET", `/api/conversations/${enc(id)}/threads`),
  /** Correct the visitor's name or email (null clears it). */
  updateVisitor: (id: string, body: { name?: string | null; email?: string | null }) =>
    request<{ visitor: VisitorInfo }>("PATCH", `/api/conversations/${enc(id)}/visitor`, body),
  /** Online (notified) or Away (not notified) for the signed-in operator. */
  setStatus: (status: PresenceStatus) =>
    request<{ status: PresenceStatus }>("PUT", "/api/operators/me/status", { status }),

  tokens: () => request<{ tokens: ApiTokenInfo[] }>("GET", "/api/v1/tokens"),
  /** The token's secret is in this answer only. */
  createToken: (body: { name: string; scope: TokenScope; expiresInDays: number | null }) =>
    request<{ token: string; info: ApiTokenInfo }>("POST", "/api/v1/tokens", body),
  revokeToken: (id: string) => request<void>("DELETE", `/api/v1/tokens/${enc(id)}`),
  webhooks: () => request<{ webhooks: WebhookInfo[] }>("GET", "/api/v1/webhooks"),
  /** The signing secret is in this answer only. */
  addWebhook: (body: { url: string; events: WebhookEvent[] }) =>
    request<{ webhook: WebhookInfo; secret: string }>("POST", "/api/v1/webhooks", body),
  removeWebhook: (id: string) => request<void>("DELETE", `/api/v1/webhooks/${enc(id)}`),
  webhookDeliveries: (id: string) =>
    request<{ deliveries: WebhookDeliveryInfo[] }>("GET", `/api/v1/webhooks/${enc(id)}/deliveries`),
  settings: () => request<WorkspaceSettings>("GET", "/api/settings"),
  saveSettings: (body: Partial<WorkspaceSettings>) => request<WorkspaceSettings>("PUT", "/api/settings", body),
  /** The audit log (admins), newest first; `before` is the id of the oldest entry shown. */
  audit: (before: number | null) =>
    request<AuditPage>("GET", `/api/audit?limit=50${before === null ? "" : `&before=${before}`}`),
  /** Privacy erasure (admins): every conversation of one person, by email or visitor id. */
  erase: (body: { email: string } | { visitorId: string }) =>
    request<{ deleted: number }>("POST", "/api/erasure", body),

  operatorReport: (range: { from: number; to: number }) =>
    request<OperatorReportResponse>("GET", `/api/reports/operators?from=${range.from}&to=${range.to}`),
  /** The same report as a CSV download (the server sends Content-Disposition: attachment). */
  operatorReportCsvUrl: (range: { from: number; to: number }) =>
    `/api/reports/operators.csv?from=${range.from}&to=${range.to}`,
  /** Where an attachment is fetched; `inline` asks for pictures to be shown rather than downloaded. */
  fileUrl: (conversationId: string, fileId: string, inline = false) =>
    `/api/conversations/${enc(conversationId)}/files/${enc(fileId)}${inline ? "?inline=1" : ""}`,
};

/** A message fit for the UI from anything thrown. */
export function errorText(e: unknown): string {
  if (e instanceof HttpError) return e.message;
  return "Something went wrong. Please try again.";
}
