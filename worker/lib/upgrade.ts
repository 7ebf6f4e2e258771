/**
 * WebSocket upgrades on their way to a Durable Object. The Worker checks and
 * authenticates an upgrade, then forwards it raw, with the identity it
 * vouches for in `IDENTITY_HEADERS`; the object accepts it with the
 * Hibernation API. (Hono's `upgradeWebSocket` would pin the socket to the
 * Worker invocation, and it could never hibernate.)
 */
import { refuse } from "../errors";
import type { Grant } from "./grants";
import { sameOrigin } from "./http";

/** Headers the Worker sets when it forwards a WebSocket upgrade; the objects read identity only from these. */
export const IDENTITY_HEADERS = {
  conversation: "X-Microchat-Conversation",
  workspace: "X-Microchat-Workspace",
  role: "X-Microchat-Role",
  actorId: "X-Microchat-Actor-Id",
  actorName: "X-Microchat-Actor-Name",
  ticketNonce: "X-Microchat-Ticket-Nonce",
  ticketExpires: "X-Microchat-Ticket-Expires",
  client: "X-Microchat-Client",
  /** The socket's grant (lib/grants.ts): its tag, and when it runs out (ms since the epoch). */
  grant: "X-Microchat-Grant",
  grantUntil: "X-Microchat-Grant-Until",
} as const;

/** The upgrade headers a socket needs; nothing else of the browser's request reaches an object. */
const PASSED_ON = [
  "Upgrade",
  "Connection",
  "Sec-WebSocket-Key",
  "Sec-WebSocket-Version",
  "Sec-WebSocket-Extensions",
  "Origin",
];

/** Whether a request asks to become a WebSocket (the objects' first check, and the Worker's). */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("Upgrade")?.toLowerCase() === "websocket";
}

/**
 * Refuses anything but a WebSocket upgrade from our own origin: a page on
 * another site must not open a socket that carries an operator's cookie.
 */
export function checkUpgrade(request: Request): void {
  if (!isWebSocketUpgrade(request)) refuse("upgrade_required", "Expected a WebSocket upgrade");
  if (!request.headers.get("Origin") || !sameOrigin(request))
    refuse("bad_origin", "WebSocket connections must come from this site");
}

/** A copy of the upgrade request carrying only the upgrade headers and the identity we vouch for. */
export function forwardUpgrade(
  request: Request,
  identity: Partial<Record<keyof typeof IDENTITY_HEADERS, string>>,
): Request {
  const headers = new Headers();
  for (const name of PASSED_ON) {
    const v = request.headers.get(name);
    if (v) headers.set(name, v);
  }
  for (const [key, value] of Object.entries(identity)) {
    if (value !== undefined) headers.set(IDENTITY_HEADERS[key as keyof typeof IDENTITY_HEADERS], value);
  }
  return new Request(request.url, { method: "GET", headers });
}

/** The grant the Worker forwarded with an upgrade (see lib/grants.ts), or null when it is missing. */
export function grantFrom(request: Request): Grant | null {
  const tag = request.headers.get(IDENTITY_HEADERS.grant) ?? "";
  const until = Number(request.headers.get(IDENTITY_HEADERS.grantUntil) ?? "");
  return tag && Number.isFinite(until) && until > 0 ? { tag, until } : null;
}
