/**
 * Replies that outlive their window. A reply waits in its conversation's
 * outbox (conversation-outbox.ts) until its ack; when the operator moves on
 * first (another conversation, another page), the window and its socket
 * close, and what was still on its way comes here rather than being lost:
 *   - a reply still "sending" is delivered over HTTP with its clientId
 *     (`POST /api/v1/conversations/{id}/messages`, the panel's cookie), so
 *     the server stores it once however often it is tried; while the server
 *     cannot be reached it is tried again, a little later each time, and at
 *     once when the browser says it is back online;
 *   - a refused one (the operator left, the conversation was deleted) is
 *     kept as "failed", and a notice says so;
 *   - opening the conversation again takes its kept replies back into the
 *     window's outbox, which shows them and sends them on its socket.
 * Kept in sessionStorage, per operator, so reloading the tab loses none;
 * signing out forgets them.
 */
import { notify } from "../components/toast";
import { api, HttpError } from "../lib/api";
import type { PendingMessage } from "./conversation-state";

/** A kept reply, with what the notice calls its conversation. */
interface Kept extends PendingMessage {
  conversationId: string;
  /** The visitor's name, for the notice should it be refused. */
  label: string;
}

const STORAGE_PREFIX = "mc:kept-replies:";
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;

let operatorId: string | null = null;
let kept: Kept[] = [];
/** The replies being tried now (by clientId), so none is posted twice at once. */
const trying = new Set<string>();
const timers = new Map<string, ReturnType<typeof setTimeout>>();

function save(): void {
  if (operatorId === null) return;
  try {
    if (kept.length === 0) sessionStorage.removeItem(STORAGE_PREFIX + operatorId);
    else sessionStorage.setItem(STORAGE_PREFIX + operatorId, JSON.stringify(kept));
  } catch {
    // Storage full or refused: they are still kept in memory for this page.
  }
}

function load(id: string): Kept[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(STORAGE_PREFIX + id) ?? "[]");
    return Array.isArray(parsed) ? (parsed as Kept[]) : [];
  } catch {
    return [];
  }
}

const isKept = (clientId: string) => kept.some((k) => k.clientId === clientId);

function later(clientId: string, ms: number): void {
  clearTimeout(timers.get(clientId));
  timers.set(
    clientId,
    setTimeout(() => {
      timers.delete(clientId);
      void deliver(clientId, ms);
    }, ms),
  );
}

/** Posts one kept reply; `waited` is the pause before this try (the next one doubles it). */
async function deliver(clientId: string, waited = 0): Promise<void> {
  const reply = kept.find((k) => k.clientId === clientId);
  if (!reply || reply.status !== "sending" || trying.has(clientId)) return;
  trying.add(clientId);
  try {
    await api.sendReply(reply.conversationId, { text: reply.text, channel: reply.channel, clientId });
    kept = kept.filter((k) => k.clientId !== clientId);
    save();
  } catch (e) {
    if (!isKept(clientId)) return; // taken back by its window meanwhile, which sends it itself
    const status = e instanceof HttpError ? e.status : 0;
    if (status === 401) return; // signed out: kept until this operator signs in again (resumeKept)
    if (status === 0 || status === 429 || status >= 500) {
      const next = Math.min(MAX_RETRY_MS, Math.max(FIRST_RETRY_MS, waited * 2));
      later(clientId, e instanceof HttpError && e.retryAfterMs ? Math.max(next, e.retryAfterMs) : next);
      return;
    }
    const error = e instanceof Error ? e.message : "Not sent";
    kept = kept.map((k) => (k.clientId === clientId ? { ...k, status: "failed", error } : k));
    save();
    notify(`Your reply to ${reply.label} was not sent: ${error} Open the conversation to retry or discard it.`);
  } finally {
    trying.delete(clientId);
  }
}

function deliverAll(): void {
  for (const k of kept) if (k.status === "sending") void deliver(k.clientId);
}

/** The browser is back online: every waiting reply is tried now, not at its next turn. */
function onOnline(): void {
  for (const [clientId, timer] of timers) {
    clearTimeout(timer);
    timers.delete(clientId);
  }
  deliverAll();
}

/** Starts keeping replies for operator `id`: those a reload left behind are sent now. */
export function resumeKept(id: string): void {
  if (operatorId !== id) {
    forgetKept();
    operatorId = id;
    kept = load(id);
  }
  addEventListener("online", onOnline);
  deliverAll();
}

/** Signing out: this operator's kept replies are dropped, here and in the tab's storage. */
export function forgetKept(): void {
  for (const timer of timers.values()) clearTimeout(timer);
  timers.clear();
  removeEventListener("online", onOnline);
  const id = operatorId;
  kept = [];
  operatorId = null;
  if (id !== null) {
    try {
      sessionStorage.removeItem(STORAGE_PREFIX + id);
    } catch {
      // Nothing was stored.
    }
  }
}

/** A window closes with replies still on its way: they are kept and delivered from here. */
export function keepReplies(conversationId: string, label: string, replies: readonly PendingMessage[]): void {
  if (operatorId === null) return; // signed out: nothing is kept
  const fresh = replies.filter((p) => !isKept(p.clientId)).map((p) => ({ ...p, conversationId, label }));
  if (fresh.length === 0) return;
  kept = [...kept, ...fresh];
  save();
  for (const p of fresh) if (p.status === "sending") void deliver(p.clientId);
}

/** A window opens: it takes back its conversation's kept replies (its outbox shows and sends them). */
export function takeReplies(conversationId: string): PendingMessage[] {
  const mine = kept.filter((k) => k.conversationId === conversationId);
  if (mine.length === 0) return [];
  kept = kept.filter((k) => k.conversationId !== conversationId);
  save();
  for (const k of mine) {
    clearTimeout(timers.get(k.clientId));
    timers.delete(k.clientId);
  }
  return mine.map(({ conversationId: _c, label: _l, ...p }) => p);
}
