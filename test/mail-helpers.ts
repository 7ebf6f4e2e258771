/**
 * Inbound mail for the workerd tests: a mail handed to the real `email()`
 * handler as Email Routing hands it, and what it became (conversations,
 * messages), read back through the panel's routes.
 */
import { env } from "cloudflare:test";
import worker from "../worker/index";
import type { ConversationSummary, Message } from "../worker/protocol";
import { fetchApp } from "./helpers";

export const SUPPORT = "support@microchat.example";

/**
 * An inbound mail as Email Routing hands it to the Worker's `email()` handler.
 * A string has its line ends made CRLF; bytes go as they are.
 */
export function inbound(
  raw: string | Uint8Array,
  opts: { from?: string; to?: string; rawSize?: number; raw?: ReadableStream<Uint8Array> } = {},
) {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw.replace(/\r?\n/g, "\r\n")) : raw;
  const rejected: string[] = [];
  const message = {
    from: opts.from ?? "alice@example.org",
    to: opts.to ?? SUPPORT,
    headers: new Headers(),
    raw: opts.raw ?? new Response(bytes).body!,
    rawSize: opts.rawSize ?? bytes.byteLength,
    canBeForwarded: false,
    setReject(reason: string) {
      rejected.push(reason);
    },
    forward: async () => ({ messageId: "" }),
    reply: async () => ({ messageId: "" }),
  } as unknown as ForwardableEmailMessage;
  return { message, rejected };
}

/** Delivers a mail through the real handler; the refusals it answered with (none: it was taken). */
export async function deliver(raw: string | Uint8Array, opts: Parameters<typeof inbound>[1] = {}): Promise<string[]> {
  const { message, rejected } = inbound(raw, opts);
  await worker.email(message, env);
  return rejected;
}

let n = 0;
/** A fresh Message-ID. */
export function mid(): string {
  return `<m${Date.now()}.${n++}@example.org>`;
}

/** A fresh sender address at `domain`. */
export function freshSender(name: string, domain = "example.org"): string {
  return `${name}.${Date.now()}.${n++}@${domain}`;
}

/** The conversations whose visitor email is `address`, as the panel lists them. */
export async function findBySender(admin: string, address: string): Promise<ConversationSummary[]> {
  const res = await fetchApp("/api/conversations?view=all&limit=200", { headers: { Cookie: admin } });
  const { conversations } = (await res.json()) as { conversations: ConversationSummary[] };
  return conversations.filter((c) => c.visitor.email === address);
}

/** The messages of conversation `id`, oldest first. */
export async function messagesOf(admin: string, id: string): Promise<Message[]> {
  const res = await fetchApp(`/api/conversations/${id}/messages?limit=200`, { headers: { Cookie: admin } });
  return ((await res.json()) as { messages: Message[] }).messages;
}

/** Waits for the index to show what the conversation reported (state changes are sent at once, asynchronously). */
export async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
