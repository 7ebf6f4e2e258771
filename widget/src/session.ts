/**
 * Who the visitor is: a visitor session (random id + server-signed token for
 * their own conversation only) kept in this origin's localStorage, so a
 * reload or another page of the same site shows the same conversation.
 * The loader holds the session too (it records page views under it) and
 * passes it in the URL; we tell it when we make a new one.
 *
 * The token is sent as a bearer header, never put in a URL: the socket gets a
 * short-lived single-use ticket instead (`socketPath`).
 */
import type { SocketTicket, VisitorSession } from "../../worker/protocol";
import { param, toHost } from "./host";

/** The site key the widget was embedded with. */
export const siteKey = param("k") ?? "";
const SESSION_KEY = `microchat:session:${siteKey}`;

/** A value from this origin's localStorage, or null (missing, unreadable or storage blocked). */
export function load<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

/** Stores a value; null removes it. */
export function save(key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or blocked: the chat still works for this page view.
  }
}

/** The loader passes the visitor session it holds; else (older loaders) we keep our own. */
let session: VisitorSession | null = (() => {
  try {
    const s = JSON.parse(param("s") ?? "null") as VisitorSession | null;
    if (typeof s?.token === "string") return s;
  } catch {
    // fall through
  }
  return load<VisitorSession>(SESSION_KEY);
})();

/** The session, if there is one yet (there is none before the first connect of a new visitor). */
export const currentSession = (): VisitorSession | null => session;

/** A failed request, with the HTTP status. */
type HttpError = Error & { status?: number };

async function api<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    const err: HttpError = new Error(body?.error?.message ?? `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return (await res.json()) as T;
}

/** The session, made on first use (a visitor who only looks never gets one). */
export async function ensureSession(): Promise<VisitorSession> {
  if (session) return session;
  session = await api<VisitorSession>("/api/visitor/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ siteKey }),
  });
  save(SESSION_KEY, session);
  // The loader records page views under this identity from now on.
  toHost("session", { session });
  return session;
}

/** Forgets the session locally; the next connect makes a new one (and a new, empty conversation). */
export function forgetSession(): void {
  session = null;
  save(SESSION_KEY, null);
}

/**
 * The visitor socket's path for the next attempt, with a fresh ticket.
 * A refused token (the secret was rotated) or a deleted conversation calls
 * `onGone` and fails this attempt; the next one starts a new conversation.
 */
export async function socketPath(onSession: (s: VisitorSession) => void, onGone: () => void): Promise<string> {
  try {
    const s = await ensureSession();
    onSession(s);
    const { ticket } = await api<SocketTicket>("/api/visitor/ticket", {
      method: "POST",
      headers: { Authorization: `Bearer ${s.token}` },
    });
    return `/ws/visitor?ticket=${encodeURIComponent(ticket)}`;
  } catch (err) {
    const status = (err as HttpError).status;
    if (status === 401 || status === 410) onGone();
    throw err;
  }
}
