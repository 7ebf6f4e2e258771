/**
 * Messages the visitor typed that the server has not acknowledged yet, kept
 * in localStorage so a reload or a lost connection loses nothing. Each is
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

const KEY = `microchat:outbox:${siteKey}`;
let items: Pending[] = load<Pending[]>(KEY) ?? [];

/** The messages waiting, oldest first. */
export const pending = (): readonly Pending[] => items;

export const find = (clientId: string | undefined): Pending | undefined => items.find((p) => p.clientId === clientId);

/** The frame that sends (or sends again) a waiting message. */
export const sendFrame = (p: Pending): ClientFrame => ({ type: "send", clientId: p.clientId, text: p.text });

/** Adds a message typed now. */
export function queue(text: string): Pending {
  const p: Pending = { clientId: crypto.randomUUID(), text, at: Date.now() };
  items.push(p);
  save(KEY, items);
  return p;
}

/** Takes out the messages with these client ids: acked, refused, or seen stored (e.g. sent from another tab). */
export function settle(clientIds: readonly (string | undefined)[]): void {
  const done = new Set(clientIds);
  if (!items.some((p) => done.has(p.clientId))) return;
  items = items.filter((p) => !done.has(p.clientId));
  save(KEY, items);
}
