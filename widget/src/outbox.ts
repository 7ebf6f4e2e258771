/**
 * Messages the visitor typed that the server has not acknowledged yet, kept
 * in localStorage (per conversation) so a reload or a lost connection loses nothing. Each is
 * sent again with the same client id until acked: the server stores each
 * client id once, so a resend never duplicates.
 */
import type { ClientFrame } from "../../worker/protocol";
import { load, save, siteKey } from "./session";

/** A message on its way: shown as "Sending…" until the server has it. */
export interface Pending {
  clientId: string;
  text: string;
  at: number;
}

/** Waiting messages are kept per conversation, so another person's session never sends them. */
const PREFIX = `microchat:outbox:${siteKey}:`;
const LEGACY = `microchat:outbox:${siteKey}`;
let owner: string | null = null;
let items: Pending[] = [];

/**
 * The conversation the outbox belongs to from now on: what waits for it in
 * storage (from before a reload) joins what was typed in this page (typed
 * before the session was known, or kept when the old conversation was
 * deleted). Other conversations' waiting messages are dropped from storage.
 */
export function own(conversationId: string): void {
  if (owner === conversationId) return;
  owner = conversationId;
  // LEGACY: where versions before per-conversation outboxes kept them (their session was this one).
  const stored = [...(load<Pending[]>(PREFIX + conversationId) ?? []), ...(load<Pending[]>(LEGACY) ?? [])];
  items = [...stored, ...items.filter((p) => !stored.some((s) => s.clientId === p.clientId))];
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(PREFIX) || key === LEGACY) localStorage.removeItem(key);
    }
  } catch {
    // Storage blocked: nothing was kept either.
  }
  keep();
}

/** Writes the waiting messages to storage (only once their conversation is known). */
function keep(): void {
  if (owner) save(PREFIX + owner, items.length > 0 ? items : null);
}

/** The messages waiting, oldest first. */
export const pending = (): readonly Pending[] => items;

export const find = (clientId: string | undefined): Pending | undefined => items.find((p) => p.clientId === clientId);

/** The frame that sends (or sends again) a waiting message. */
export const sendFrame = (p: Pending): ClientFrame => ({ type: "send", clientId: p.clientId, text: p.text });

/** Adds a message typed now. */
export function queue(text: string): Pending {
  const p: Pending = { clientId: crypto.randomUUID(), text, at: Date.now() };
  items.push(p);
  keep();
  return p;
}

/** Takes out the messages with these client ids: acked, refused, or seen stored (e.g. sent from another tab). */
export function settle(clientIds: readonly (string | undefined)[]): void {
  const done = new Set(clientIds);
  if (!items.some((p) => done.has(p.clientId))) return;
  items = items.filter((p) => !done.has(p.clientId));
  keep();
}
