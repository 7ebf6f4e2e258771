/**
 * The Email channel's rules (worker/conversation/email-channel.ts), called on
 * the module directly inside a real Conversation object, with a real
 * workspace object of the test's own (its settings, thread tokens and
 * Message-IDs), the real R2 bucket and the real send_email binding (the mail
 * handed to it kept with `recordSentMail`), the clock set by the test: an
 * inbound mail stored as the visitor's message; when a reply may go out;
 * the envelope of a reply; what is sent (threading headers, Reply-To, file
 * replies, the size bound) and how delivery is recorded. What needs a
 * socket (who is told of a message, a delivery) goes through the real
 * routes. (`email.test.ts` drives the same rules through sockets and mail.)
 */
import { env, runInDurableObject } from "cloudflare:test";
import PostalMime from "postal-mime";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { join } from "../worker/conversation/assignment";
import type { ConversationContext } from "../worker/conversation/context";
import { post, prepareEmail, publish, receiveEmail } from "../worker/conversation/email-channel";
import { append, bySeq } from "../worker/conversation/log";
import type { SocketIdentity } from "../worker/conversation/sockets";
import { buildReply, MAX_OUTBOUND_EMAIL_BYTES, tokenAddress } from "../worker/email/outbound";
import { fileKey } from "../worker/lib/files";
import type { EmailMeta, FileRef, ServerFrame, VisitorSession } from "../worker/protocol";
import {
  conversationObject,
  join as joinRoute,
  newOperator,
  newVisitorSession,
  operatorSocket,
  ownConversation,
  recordSentMail,
  refusalOf,
  signInAdmin,
  visitorSocket,
  type TestSocket,
} from "./helpers";

/** Far ahead of the real clock: no alarm armed here comes due while a test runs. */
const T0 = 4_000_000_000_000;
const VISITOR_ID = "visitor-1";
const INES = { id: VISITOR_ID, name: "Ines", email: "ines@example.org" };
const OLGA = { id: "op-olga", name: "Olga" };
const OLGA_WRITES: SocketIdentity = { role: "operator", id: OLGA.id, name: OLGA.name };
const SENDER = "help@acme.example";
const SENDER_NAME = "Acme Support";
const MESSAGE_ID = /^<[A-Za-z0-9_-]{22}@acme\.example>$/;

const realNow = Date.now.bind(Date);
let now = T0;
beforeEach(() => {
  now = T0;
  vi.spyOn(Date, "now").mockImplementation(() => now);
});
afterEach(() => vi.restoreAllMocks());

/** A conversation object of its own (its visitor VISITOR_ID), with a workspace object of its own. */
function fresh() {
  const base = ownConversation("email-rules", VISITOR_ID);
  const { id, ws } = base;
  return {
    ...base,
    /** The workspace's thread of this conversation (its token), or null. */
    thread() {
      return this.wsSql(
        (sql) =>
          sql
            .exec<{ visitor_id: string; sender: string; token: string }>(
              "SELECT visitor_id, sender, token FROM email_threads WHERE conversation_id = ?",
              id,
            )
            .toArray()[0] ?? null,
      );
    },
    /** The Message-IDs the workspace recorded for this conversation. */
    messageIds() {
      return this.wsSql((sql) =>
        sql
          .exec<{ message_id: string }>("SELECT message_id FROM email_message_ids WHERE conversation_id = ?", id)
          .toArray()
          .map((r) => r.message_id),
      );
    },
    /** Makes the workspace send replies as Acme Support <help@acme.example> (through its admin). */
    async sendAsAcme() {
      const setup = await ws().setup({ name: "Ada", email: "ada@example.com", passwordHash: "not-a-real-hash" });
      if (!setup.ok) throw new Error(`setup refused: ${setup.message}`);
      const res = await ws().updateSettings(setup.value.operator, { emailAddress: SENDER, emailName: SENDER_NAME });
      if (!res.ok) throw new Error(`settings refused: ${res.message}`);
    },
  };
}

/** Waits (on the real clock) until `ok()` holds; fails saying what `seen()` shows then. */
async function until(what: string, ok: () => boolean, seen: () => unknown, ms = 20_000): Promise<void> {
  const end = realNow() + ms;
  while (!ok()) {
    if (realNow() > end) throw new Error(`timed out waiting until ${what}; saw ${JSON.stringify(seen())}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A mail's envelope as the inbound handler stores it. */
const inbound = (subject: string, messageId: string, more: Partial<EmailMeta> = {}): EmailMeta => ({
  subject,
  from: { name: "Ines", address: INES.email },
  to: "support@microchat.example",
  messageId,
  ...more,
});

/** The delivery stored for message `seq` (parsed), or null. */
const deliveryOf = (c: ConversationContext, seq: number) => {
  const row = bySeq(c, seq);
  return row?.delivery ? (JSON.parse(row.delivery) as { state: string; error?: string }) : null;
};

/** Waits until message `seq` is no longer on its way, and answers how it went. */
async function delivered(c: ConversationContext, seq: number) {
  await until(
    `message ${seq} is sent or failed`,
    () => deliveryOf(c, seq)?.state !== "sending",
    () => deliveryOf(c, seq),
  );
  return deliveryOf(c, seq);
}

/** Olga joins (an operator must join to reply), and everything that reports is done. */
async function olgaJoins(c: ConversationContext): Promise<void> {
  join(c, OLGA);
  await until(
    "the join is reported",
    () => c.memory.report.inFlight === 0 && c.memory.report.timer === null,
    () => c.memory.report,
  );
}

/** Ines has written one mail (`text`, under `subject`), Olga has joined, and the conversation can be mailed. */
async function mailedAndJoined(f: ReturnType<typeof fresh>, text: string, subject: string): Promise<void> {
  await f.in(async (c) => {
    receiveEmail(c, INES, "in-1", text, inbound(subject, "<in-1@example.org>"), "t");
    await olgaJoins(c);
    await prepareEmail(c);
  });
}

const storedRow = (c: ConversationContext, seq: number) =>
  c.sql
    .exec(
      "SELECT seq, client_id, kind, author_role, author_id, author_name, text, file, channel, email, delivery, at FROM messages WHERE seq = ?",
      seq,
    )
    .toArray()[0];

describe("an inbound mail", () => {
  it("is stored as the visitor's message on the Email channel with its envelope, under the sender's name", async () => {
    const f = fresh();
    const meta = inbound("Refund", "<in-1@example.org>");
    const seen = await f.in((c) => {
      const stored = receiveEmail(c, INES, "mail-1", "Where is my refund?", meta, "token-one");
      return {
        stored,
        row: storedRow(c, 1),
        contact: [c.meta.visitorName, c.meta.visitorEmail, c.meta.emailToken],
      };
    });
    expect(seen.stored).toEqual({
      message: {
        seq: 1,
        clientId: "mail-1",
        kind: "text",
        author: { role: "visitor", id: VISITOR_ID, name: "Ines" },
        text: "Where is my refund?",
        at: T0,
        channel: "email",
        email: meta,
      },
      fresh: true,
    });
    expect(seen.row).toEqual({
      seq: 1,
      client_id: "mail-1",
      kind: "text",
      author_role: "visitor",
      author_id: VISITOR_ID,
      author_name: "Ines",
      text: "Where is my refund?",
      file: null,
      channel: "email",
      email: JSON.stringify(meta),
      delivery: null,
      at: T0,
    });
    expect(seen.contact).toEqual(["Ines", INES.email, "token-one"]);
  });

  it("from a sender with no name is written under their address, and names nobody", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      const { message } = receiveEmail(c, { ...INES, name: null }, "mail-1", "Hi", inbound("Hi", "<a@x>"), "t");
      return { author: message.author, contact: [c.meta.visitorName, c.meta.visitorEmail] };
    });
    expect(seen).toEqual({
      author: { role: "visitor", id: VISITOR_ID, name: INES.email },
      contact: [null, INES.email],
    });
  });

  it("keeps the contact's first address and the name they have; a later mail changes only the thread token", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      c.meta.visitorName = "Typed In The Widget";
      receiveEmail(c, INES, "mail-1", "one", inbound("One", "<one@x>"), "token-one");
      const first = [c.meta.visitorName, c.meta.visitorEmail, c.meta.emailToken];
      receiveEmail(
        c,
        { ...INES, name: "Other", email: "other@example.org" },
        "mail-2",
        "two",
        inbound("Two", "<two@x>"),
        "token-two",
      );
      return { first, second: [c.meta.visitorName, c.meta.visitorEmail, c.meta.emailToken] };
    });
    expect(seen).toEqual({
      first: ["Typed In The Widget", INES.email, "token-one"],
      second: ["Typed In The Widget", INES.email, "token-two"],
    });
  });

  it("delivered twice under one client id is stored once", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      const first = receiveEmail(c, INES, "mail-1", "once", inbound("Once", "<once@x>"), "t");
      const again = receiveEmail(c, INES, "mail-1", "once", inbound("Once", "<once@x>"), "t");
      return { first, again, count: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n };
    });
    expect(seen.again).toEqual({ message: seen.first.message, fresh: false });
    expect(seen.count).toBe(1);
  });
});

describe("before a reply can go out", () => {
  it("a visitor with no address is refused in words, and nothing is asked of the workspace", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      const none = await refusalOf(() => prepareEmail(c));
      c.meta.visitorEmail = "";
      const empty = await refusalOf(() => prepareEmail(c));
      return { none, empty, token: c.meta.emailToken, from: c.meta.emailFrom };
    });
    const refused = { code: "no_email", message: "This visitor has not given an email address" };
    expect(seen).toEqual({ none: refused, empty: refused, token: null, from: null });
    expect(await f.thread()).toBeNull();
  });

  it("a workspace with no sending address is refused in words, and no thread is made", async () => {
    const f = fresh();
    await f.wsSql((sql) =>
      sql.exec("INSERT INTO settings (key, value) VALUES ('email_address', ?)", JSON.stringify("")),
    );
    const seen = await f.in(async (c) => {
      c.meta.visitorEmail = INES.email;
      const refused = await refusalOf(() => prepareEmail(c));
      return { refused, token: c.meta.emailToken, from: c.meta.emailFrom, name: c.meta.emailName };
    });
    expect(seen).toEqual({
      refused: { code: "no_sender", message: "Set the workspace email address first (Settings)" },
      token: null,
      from: null,
      name: null,
    });
    expect(await f.thread()).toBeNull();
  });

  it("the conversation gets its thread token once, and the sender replies go out as", async () => {
    const plain = fresh();
    const acme = fresh();
    await acme.sendAsAcme();
    const prepared = await Promise.all(
      [plain, acme].map((f) =>
        f.in(async (c) => {
          c.meta.visitorEmail = "Ines@Example.ORG";
          await prepareEmail(c);
          const first = [c.meta.emailToken, c.meta.emailFrom, c.meta.emailName];
          await prepareEmail(c);
          return { first, again: [c.meta.emailToken, c.meta.emailFrom, c.meta.emailName] };
        }),
      ),
    );
    const threads = [await plain.thread(), await acme.thread()];
    for (const t of threads) expect(t?.token).toMatch(/^[a-z2-7]{16}$/);
    expect(threads.map((t) => t && { visitor_id: t.visitor_id, sender: t.sender })).toEqual([
      { visitor_id: VISITOR_ID, sender: "ines@example.org" },
      { visitor_id: VISITOR_ID, sender: "ines@example.org" },
    ]);
    expect(prepared).toEqual([
      {
        first: [threads[0]!.token, "support@microchat.example", "Microchat Demo"],
        again: [threads[0]!.token, "support@microchat.example", "Microchat Demo"],
      },
      { first: [threads[1]!.token, SENDER, SENDER_NAME], again: [threads[1]!.token, SENDER, SENDER_NAME] },
    ]);
  });
});

describe("an operator's message", () => {
  const pdf: FileRef = { id: "file-1", name: "receipt.pdf", type: "application/pdf", size: 8, image: false };

  it("on chat is stored as it is: no envelope, no delivery", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      await olgaJoins(c); // seq 1
      now = T0 + 5;
      const text = post(c, OLGA_WRITES, "chat-1", "text", "Hello there", "chat");
      const file = post(c, OLGA_WRITES, "chat-2", "file", pdf.name, "chat", pdf);
      return { text, file, rows: [storedRow(c, 2), storedRow(c, 3)] };
    });
    const olga = { role: "operator", id: OLGA.id, name: OLGA.name };
    expect(seen.text).toEqual({
      message: { seq: 2, clientId: "chat-1", kind: "text", author: olga, text: "Hello there", at: T0 + 5 },
      fresh: true,
    });
    expect(seen.file).toEqual({
      message: { seq: 3, clientId: "chat-2", kind: "file", author: olga, text: pdf.name, at: T0 + 5, file: pdf },
      fresh: true,
    });
    expect(seen.rows.map((r) => [r?.channel, r?.email, r?.delivery, r?.file])).toEqual([
      ["chat", null, null, null],
      ["chat", null, null, JSON.stringify(pdf)],
    ]);
  });

  it("on email carries a reply's envelope: Re: the visitor's latest mail, from the workspace's sender, a new Message-ID; sending", async () => {
    const f = fresh();
    await f.sendAsAcme();
    const seen = await f.in(async (c) => {
      receiveEmail(c, INES, "in-1", "first", inbound("First question", "<in-1@example.org>"), "t");
      receiveEmail(c, INES, "in-2", "second", inbound("Re: Second question", "<in-2@example.org>"), "t");
      await olgaJoins(c);
      await prepareEmail(c);
      // Neither the visitor's chat nor an operator's own email (here one under a subject of its own) is the mail
      // a reply answers.
      append(c, "chat", "text", { role: "visitor", id: VISITOR_ID, name: "Ines" }, "by chat");
      append(c, "own-subject", "text", { role: "operator", id: OLGA.id, name: OLGA.name }, "A note", {
        channel: "email",
        email: {
          subject: "Your ticket #4521",
          from: { name: SENDER_NAME, address: SENDER },
          to: INES.email,
          messageId: "<own@acme.example>",
        },
      });
      const earlier = post(c, OLGA_WRITES, "reply-0", "text", "Looking", "email");
      const reply = post(c, OLGA_WRITES, "reply-1", "text", "Your refund is on its way.", "email");
      const file = post(c, OLGA_WRITES, "reply-2", "file", pdf.name, "email", pdf);
      return { earlier, reply, file, row: storedRow(c, reply.message.seq) };
    });
    const envelope = (messageId: string) => ({
      subject: "Re: Second question",
      from: { name: SENDER_NAME, address: SENDER },
      to: INES.email,
      messageId,
    });
    const { message } = seen.reply;
    expect(message.email?.messageId).toMatch(MESSAGE_ID);
    expect(message).toEqual({
      seq: 7,
      clientId: "reply-1",
      kind: "text",
      author: { role: "operator", id: OLGA.id, name: OLGA.name },
      text: "Your refund is on its way.",
      at: T0,
      channel: "email",
      email: envelope(message.email!.messageId),
      delivery: { state: "sending" },
    });
    expect(seen.earlier.message.email).toEqual(envelope(seen.earlier.message.email!.messageId));
    expect(seen.earlier.message.email!.messageId).not.toBe(message.email!.messageId);
    expect(seen.file.message).toMatchObject({
      kind: "file",
      file: pdf,
      channel: "email",
      email: envelope(seen.file.message.email!.messageId),
      delivery: { state: "sending" },
    });
    expect(seen.row).toMatchObject({
      channel: "email",
      email: JSON.stringify(message.email),
      delivery: JSON.stringify({ state: "sending" }),
    });
  });

  it("with no mail from the visitor, the subject names the workspace; a sender's name unknown is the workspace's", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.visitorEmail = INES.email;
      c.meta.emailFrom = '"desk@2"@mail.acme.example'; // the domain is after the last @
      await olgaJoins(c);
      return post(c, OLGA_WRITES, "reply-1", "text", "Hello", "email").message.email;
    });
    expect(seen?.messageId).toMatch(/^<[A-Za-z0-9_-]{22}@mail\.acme\.example>$/);
    expect(seen).toEqual({
      subject: "Re: Your conversation with Microchat Demo",
      from: { name: "Microchat Demo", address: '"desk@2"@mail.acme.example' },
      to: INES.email,
      messageId: seen?.messageId,
    });
  });
});

describe("sending a reply", () => {
  it("goes with In-Reply-To the visitor's latest mail before it, References the 20 latest before it, Reply-To the thread; then it is sent", async () => {
    const f = fresh();
    await f.sendAsAcme();
    const prepared = await f.in(async (c) => {
      for (let i = 1; i <= 20; i++) {
        receiveEmail(c, INES, `in-${i}`, `mail ${i}`, inbound(`Order ${i}`, `<in-${i}@example.org>`), "t");
      } // seqs 1-20
      await olgaJoins(c); // 21
      await prepareEmail(c);
      const token = c.meta.emailToken!; // the thread's, as the inbound handler passes it from now on
      receiveEmail(c, INES, "in-21", "mail 21", inbound("Re: Order 21", "<in-21@example.org>"), token); // 22
      // The operator's own email after it is referenced, but is not what the reply answers.
      const earlier = post(c, OLGA_WRITES, "reply-0", "text", "Looking into it", "email"); // 23, never sent
      append(c, "chat", "text", { role: "visitor", id: VISITOR_ID, name: "Ines" }, "by chat"); // 24
      return { earlier: earlier.message.email!.messageId, token: c.meta.emailToken };
    });
    const sent = await recordSentMail(f.id);
    const seen = await f.in(async (c) => {
      const reply = post(c, OLGA_WRITES, "reply-1", "text", "Your refund is on its way.", "email"); // 25
      // A mail after the reply, before it goes out: not what the reply answers.
      receiveEmail(c, INES, "in-22", "mail 22", inbound("Later", "<in-22@example.org>"), c.meta.emailToken!); // 26
      publish(c, reply);
      return { reply: reply.message, delivery: await delivered(c, reply.message.seq) };
    });
    expect(seen.delivery).toEqual({ state: "sent" });
    expect(sent).toHaveLength(1);
    const mail = await PostalMime.parse(sent[0]!);
    const references = [
      ...Array.from({ length: 18 }, (_, i) => `<in-${i + 3}@example.org>`),
      "<in-21@example.org>",
      prepared.earlier,
    ];
    expect({
      subject: mail.subject,
      from: mail.from,
      to: mail.to?.map((t) => t.address),
      replyTo: mail.replyTo?.map((t) => t.address),
      messageId: mail.messageId,
      inReplyTo: mail.inReplyTo,
      references: mail.references,
      text: mail.text?.trim(),
    }).toEqual({
      subject: "Re: Order 21",
      from: { name: SENDER_NAME, address: SENDER },
      to: [INES.email],
      replyTo: [tokenAddress(SENDER, prepared.token!)],
      messageId: seen.reply.email!.messageId,
      inReplyTo: "<in-21@example.org>",
      references: references.join(" "),
      text: "Your refund is on its way.",
    });
    expect(await f.messageIds(), "recorded for threading the answer").toContain(seen.reply.email!.messageId);
  });

  it("a first reply, before any mail of the visitor's, answers nothing and references nothing", async () => {
    const f = fresh();
    await f.in(async (c) => {
      c.meta.visitorEmail = INES.email;
      await olgaJoins(c);
      await prepareEmail(c);
    });
    const sent = await recordSentMail(f.id);
    const seen = await f.in(async (c) => {
      const reply = post(c, OLGA_WRITES, "reply-1", "text", "Hello from support", "email");
      publish(c, reply);
      return { delivery: await delivered(c, reply.message.seq), messageId: reply.message.email!.messageId };
    });
    expect(seen.delivery).toEqual({ state: "sent" });
    expect(sent).toHaveLength(1);
    const head = sent[0]!.slice(0, sent[0]!.indexOf("\r\n\r\n"));
    expect(head).not.toMatch(/^In-Reply-To:/im);
    expect(head).not.toMatch(/^References:/im);
    expect(head).toMatch(new RegExp(`^Message-ID: ${seen.messageId}$`, "m"));
    expect((await PostalMime.parse(sent[0]!)).subject).toBe("Re: Your conversation with Microchat Demo");
  });

  it("a file goes as the reply's attachment, the text saying who sent which file", async () => {
    const f = fresh();
    const bytes = new TextEncoder().encode("%PDF-1.4\n% receipt\n%%EOF\n");
    const file: FileRef = {
      id: "file-receipt",
      name: "receipt.pdf",
      type: "application/pdf",
      size: bytes.length,
      image: false,
    };
    await env.ATTACHMENTS.put(fileKey(f.id, file.id), bytes);
    await mailedAndJoined(f, "send me the receipt", "Receipt");
    const sent = await recordSentMail(f.id);
    const delivery = await f.in(async (c) => {
      const reply = post(c, OLGA_WRITES, "file-1", "file", file.name, "email", file);
      publish(c, reply);
      return delivered(c, reply.message.seq);
    });
    expect(delivery).toEqual({ state: "sent" });
    expect(sent).toHaveLength(1);
    const mail = await PostalMime.parse(sent[0]!);
    expect(mail.text?.trim()).toBe("Olga sent you a file: receipt.pdf");
    expect(mail.attachments.map((a) => [a.filename, a.mimeType])).toEqual([["receipt.pdf", "application/pdf"]]);
    expect(new Uint8Array(mail.attachments[0]!.content as ArrayBuffer)).toEqual(bytes);
  });

  it("a file no longer in storage fails, saying so; nothing is sent or recorded", async () => {
    const f = fresh();
    const file: FileRef = { id: "file-gone", name: "gone.pdf", type: "application/pdf", size: 10, image: false };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await mailedAndJoined(f, "hi", "Hi");
    const sent = await recordSentMail(f.id);
    const seen = await f.in(async (c) => {
      const reply = post(c, OLGA_WRITES, "file-1", "file", file.name, "email", file);
      publish(c, reply);
      return { delivery: await delivered(c, reply.message.seq), messageId: reply.message.email!.messageId };
    });
    expect(seen.delivery).toEqual({ state: "failed", error: "the attachment is missing" });
    expect(errors.mock.calls, "the failure is logged, once").toEqual([
      [
        {
          event: "email.delivery_failed",
          conversationId: f.id,
          error: "Error: the attachment is missing",
          stack: expect.any(String),
        },
      ],
    ]);
    expect(sent).toEqual([]);
    expect(await f.messageIds()).not.toContain(seen.messageId);
  });

  it("a reply that went out stays sent when the workspace cannot record its Message-ID; that is logged", async () => {
    const f = fresh();
    await f.sendAsAcme();
    await mailedAndJoined(f, "hi", "Hi");
    await f.wsSql((sql) => sql.exec("DROP TABLE email_message_ids")); // the workspace's write fails for real
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const sent = await recordSentMail(f.id);
    const seen = await f.in(async (c) => {
      const reply = post(c, OLGA_WRITES, "reply-1", "text", "On its way.", "email");
      publish(c, reply);
      return await delivered(c, reply.message.seq);
    });
    expect(seen, "what went out is not shown as failed (an operator would send it again)").toEqual({ state: "sent" });
    expect(sent).toHaveLength(1);
    expect(errors.mock.calls.map(([line]) => (line as { event: string }).event)).toEqual([
      "email.message_id_not_recorded",
    ]);
  });

  it("a message with no envelope is never mailed, whatever its delivery says", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      await olgaJoins(c);
      const chat = post(c, OLGA_WRITES, "chat-1", "text", "Hello", "chat");
      publish(c, { ...chat, message: { ...chat.message, delivery: { state: "sending" } } });
      return bySeq(c, chat.message.seq)?.delivery ?? null;
    });
    expect(seen).toBeNull();
  });

  /** The length of the mail `deliver` builds for a file reply with this subject and attachment (ids of the same length). */
  function mailLength(subject: string, bytes: Uint8Array): number {
    return buildReply({
      from: { name: SENDER_NAME, address: SENDER },
      to: INES.email,
      replyTo: tokenAddress(SENDER, "t".repeat(16)),
      subject,
      text: `${OLGA.name} sent you a file: big.pdf`,
      messageId: `<${"x".repeat(22)}@acme.example>`,
      inReplyTo: "<in-1@example.org>",
      references: ["<in-1@example.org>"],
      attachment: { name: "big.pdf", type: "application/pdf", bytes },
    }).length;
  }

  /** An attachment and subject whose mail is exactly `MAX_OUTBOUND_EMAIL_BYTES + over` long. */
  function mailOfSize(over: number): { subject: string; bytes: Uint8Array } {
    // An attachment whose mail falls short of the bound by a few hundred characters; the subject makes up the rest.
    let size = Math.floor((MAX_OUTBOUND_EMAIL_BYTES * 3) / 4 / (78 / 76)) - 600;
    let base = mailLength("Re: Size s", new Uint8Array(size));
    while (base > MAX_OUTBOUND_EMAIL_BYTES - 10) {
      size -= 300;
      base = mailLength("Re: Size s", new Uint8Array(size));
    }
    const pad = MAX_OUTBOUND_EMAIL_BYTES + over - base;
    expect(pad, "padding of the subject").toBeLessThan(900);
    const bytes = new Uint8Array(size).map((_, i) => (i * 31) % 256);
    bytes.set(new TextEncoder().encode("%PDF-1.4\n"));
    return { subject: `Re: Size s${"s".repeat(pad)}`, bytes };
  }

  it.each([
    ["one under", -1, { state: "sent" }],
    ["exactly", 0, { state: "sent" }],
    ["one over", 1, { state: "failed", error: "the email would be larger than 5 MB" }],
  ])(
    "a mail %s MAX_OUTBOUND_EMAIL_BYTES long (%i) is sent only within the bound",
    async (_name, over, expected) => {
      vi.spyOn(console, "error").mockImplementation(() => {}); // the failure's log line
      const { subject, bytes } = mailOfSize(over);
      expect(mailLength(subject, bytes)).toBe(MAX_OUTBOUND_EMAIL_BYTES + over);
      const f = fresh();
      await f.sendAsAcme();
      const file: FileRef = {
        id: "file-big",
        name: "big.pdf",
        type: "application/pdf",
        size: bytes.length,
        image: false,
      };
      await env.ATTACHMENTS.put(fileKey(f.id, file.id), bytes);
      await mailedAndJoined(f, "big", subject);
      const sent = await recordSentMail(f.id);
      const delivery = await f.in(async (c) => {
        const reply = post(c, OLGA_WRITES, "file-1", "file", file.name, "email", file);
        publish(c, reply);
        return delivered(c, reply.message.seq);
      });
      expect(delivery).toEqual(expected);
      expect(sent.map((raw) => raw.length)).toEqual(expected.state === "sent" ? [MAX_OUTBOUND_EMAIL_BYTES + over] : []);
    },
    120_000,
  );
});

describe("who is told, through the real sockets", () => {
  /** Frames of `type` on `s` for message `clientId`, once every frame sent before a ping has arrived. */
  async function framesFor(s: TestSocket<ServerFrame>, clientId: string, seq: number) {
    await s.roundTrip();
    return s.frames.flatMap((f) =>
      (f.type === "message" && f.message.clientId === clientId) || (f.type === "delivery" && f.seq === seq)
        ? [f.type]
        : [],
    );
  }

  /** Ines's mail "mail-1" arrives in `session`'s conversation (the same one each time: stored once). */
  const mailArrives = (c: ConversationContext, session: VisitorSession) =>
    receiveEmail(
      c,
      { id: session.visitorId, name: "Ines", email: INES.email },
      "mail-1",
      "By mail",
      inbound("Hi", `<${session.conversationId}@example.org>`),
      "t",
    );

  it("a mail is told to every socket; a reply to all but its sender's, and its delivery to all; a resend to none", async () => {
    vi.restoreAllMocks(); // the real clock: sockets and the routes run here
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const id = session.conversationId;
    const v = await visitorSocket(session);
    await v.next("welcome");
    expect((await joinRoute(admin, id)).status).toBe(200);
    const op = await operatorSocket(admin, id);
    const adminRef = (await op.next("welcome")).state.operators[0]!;
    const inIt = <T>(fn: (c: ConversationContext, state: DurableObjectState) => T) =>
      runInDurableObject(conversationObject(id), (o, state) =>
        fn((o as unknown as { c: ConversationContext }).c, state),
      );

    await inIt((c) => mailArrives(c, session));
    expect(await framesFor(v, "mail-1", -1), "the visitor").toEqual(["message"]);
    expect(await framesFor(op, "mail-1", -1), "the operator").toEqual(["message"]);

    const reply = await inIt(async (c, state) => {
      await prepareEmail(c);
      const stored = post(
        c,
        { role: "operator", id: adminRef.id, name: adminRef.name },
        "reply-1",
        "text",
        "Answer",
        "email",
      );
      publish(c, stored, state.getWebSockets("operator")[0]);
      return stored.message;
    });
    await v.until("delivery", (d) => d.seq === reply.seq, 20_000);
    await op.until("delivery", (d) => d.seq === reply.seq, 20_000);
    expect(await framesFor(v, "reply-1", reply.seq), "the visitor").toEqual(["message", "delivery"]);
    expect(await framesFor(op, "reply-1", reply.seq), "its sender").toEqual(["delivery"]);

    await inIt((c) => {
      const resent = post(
        c,
        { role: "operator", id: adminRef.id, name: adminRef.name },
        "reply-1",
        "text",
        "Answer",
        "email",
      );
      if (resent.fresh) throw new Error("a resend was stored again");
      publish(c, resent);
    });
    expect(await framesFor(v, "reply-1", reply.seq), "the resend, to the visitor").toEqual(["message", "delivery"]);
    expect(await framesFor(op, "reply-1", reply.seq), "the resend, to the operator").toEqual(["delivery"]);
    v.close();
    op.close();
  });

  it("a mail arriving asks again whether a listening operator's session holds, once the last check is old", async () => {
    vi.restoreAllMocks();
    const admin = await signInAdmin();
    const olga = await newOperator(admin, "Olga");
    const session = await newVisitorSession();
    const id = session.conversationId;
    const v = await visitorSocket(session);
    await v.next("welcome");
    expect((await joinRoute(olga.cookie, id)).status).toBe(200);
    const op = await operatorSocket(olga.cookie, id);
    await op.next("welcome");
    // Olga's sessions end in the workspace without this conversation being told, and her last check is a minute old.
    await runInDurableObject(env.WORKSPACE.get(env.WORKSPACE.idFromName("demo")), (_o, state) => {
      state.storage.sql.exec("DELETE FROM sessions WHERE operator_id = ?", olga.id);
    });
    await runInDurableObject(conversationObject(id), (o, state) => {
      const c = (o as unknown as { c: ConversationContext }).c;
      for (const ws of state.getWebSockets("operator")) {
        const check = c.memory.sessionChecks.get(ws);
        if (check) check.at -= 60_000;
      }
      mailArrives(c, session);
    });
    await op.closedByServer("Olga's socket");
    expect([op.closeCode, op.closeReason]).toEqual([4001, "Signed out"]);
    v.close();
  });
});
