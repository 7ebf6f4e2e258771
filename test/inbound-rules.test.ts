/**
 * The rules of worker/email/inbound.ts, through the real `email()` handler
 * with crafted mail: the size limit from the envelope and while reading (at
 * the limit and one byte past it, the rest never read), a mail arriving in
 * pieces, the parser's budget and postal-mime's limits at their edges
 * (nesting, header size, nested messages), every refusal's reason and its
 * log line, the Message-ID and the message's client id, the verified and
 * unverified marks, which attachments are stored (ten, non-empty, a known
 * type) and how the rest are named, the original kept when something is
 * cut, and the files a redelivery or an undeliverable mail leaves behind.
 *
 * The pure rules under it (parse.ts) are in test/parse-rules.test.ts; whole
 * mails end to end (HTML, charsets, threading, outbound) in email.test.ts,
 * email-sender.test.ts, email-linear.test.ts and email-corpus.test.ts.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { fallbackMessageId, MAX_EMAIL_BYTES, REFUSED } from "../worker/email/parse";
import { base64url } from "../worker/lib/crypto";
import { fileKey } from "../worker/lib/files";
import { signInAdmin } from "./helpers";
import { deliver, eventually, findBySender, freshSender, messagesOf, mid, SUPPORT } from "./mail-helpers";

type LogLine = { event?: string; from?: string; to?: string; reason?: string; detail?: string };

/** What `fn` refused, and the refusal lines it logged (printed nowhere). */
async function refusals(fn: () => Promise<string[]>): Promise<{ rejected: string[]; logged: LogLine[] }> {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  try {
    const rejected = await fn();
    const logged = warn.mock.calls.map((args) => args[0] as LogLine).filter((l) => l?.event === "email.refused");
    return { rejected, logged };
  } finally {
    warn.mockRestore();
  }
}

/** The one refusal of delivering `raw`, with its log line. */
async function refused(raw: string | Uint8Array, opts: Parameters<typeof deliver>[1]) {
  const { rejected, logged } = await refusals(() => deliver(raw, opts));
  expect(rejected).toHaveLength(1);
  expect(logged).toHaveLength(1);
  return { reason: rejected[0]!, log: logged[0]! };
}

/** Delivers `raw` from `from` (taken, not refused); its conversation and its one message. */
async function landed(admin: string, from: string, raw: string | Uint8Array, opts: Parameters<typeof deliver>[1] = {}) {
  expect(await deliver(raw, { from, ...opts }), `${from}: refusals`).toEqual([]);
  const [c] = await eventually(
    () => findBySender(admin, from),
    (l) => l.length === 1,
  );
  expect(c, `a conversation for ${from}`).toBeDefined();
  const messages = await messagesOf(admin, c!.id);
  expect(messages, `the messages of ${c!.id}`).toHaveLength(1);
  return { c: c!, m: messages[0]! };
}

/** A stream of `chunks` that counts how many were asked for and whether it was cancelled. */
function pieces(chunks: (() => Uint8Array)[]) {
  const seen = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[seen.pulls++];
        if (next) controller.enqueue(next());
        else controller.close();
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

const MiB = 1024 * 1024;
const crlf = (s: string) => new TextEncoder().encode(s.replace(/\r?\n/g, "\r\n"));
const head = (from: string, extra = "") =>
  `From: ${from}\nTo: ${SUPPORT}\nSubject: Rules\nMessage-ID: ${mid()}\n${extra}`;
/** A base64 attachment part of boundary `b`. */
const part = (name: string | null, content: string | Uint8Array) =>
  `--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment${name === null ? "" : `; filename="${name}"`}\nContent-Transfer-Encoding: base64\n\n${btoa(typeof content === "string" ? content : String.fromCharCode(...content))}\n`;
const multipart = (from: string, text: string, parts: string[]) =>
  `${head(from, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n")}\n--b\nContent-Type: text/plain\n\n${text}\n${parts.join("")}--b--\n`;
const PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
  (ch) => ch.charCodeAt(0),
);

describe("the size limit", () => {
  it("a mail whose envelope says it is over 10 MiB is refused unread, its size in the log; at 10 MiB it is read", async () => {
    const sender = freshSender("envelope-size");
    const raw = `${head(sender)}\nSmall\n`;
    const { reason, log } = await refused(raw, { from: sender, rawSize: MAX_EMAIL_BYTES + 1 });
    expect(reason).toBe(REFUSED.tooLarge);
    expect(log).toEqual({
      event: "email.refused",
      from: sender,
      to: SUPPORT,
      reason: REFUSED.tooLarge,
      detail: "10485761 bytes",
    });
    expect(await deliver(raw, { from: sender, rawSize: MAX_EMAIL_BYTES })).toEqual([]);
  });

  it("a body of exactly 10 MiB is read whole; one byte more is refused there, the rest never asked for", async () => {
    const sender = freshSender("stream-size");
    const mib = () => new Uint8Array(MiB).fill(0x61);
    // 10 MiB of one header line: read, then refused by the parser for its header size.
    const exact = pieces(Array.from({ length: 10 }, () => mib));
    const at = await refused("", { from: sender, raw: exact.stream, rawSize: 100 });
    expect(at.reason).toBe(REFUSED.unparseable);
    expect(at.log.detail).toBe("Error: Maximum header size of 262144 bytes exceeded");
    expect(exact.seen).toEqual({ pulls: 11, cancelled: false });

    const over = pieces([...Array.from({ length: 10 }, () => mib), () => new Uint8Array(1).fill(0x61), mib, mib]);
    const past = await refused("", { from: sender, raw: over.stream, rawSize: 100 });
    expect(past.reason).toBe(REFUSED.tooLarge);
    expect(past.log).toEqual({
      event: "email.refused",
      from: sender,
      to: SUPPORT,
      reason: REFUSED.tooLarge,
      detail: "body over the limit",
    });
    expect(over.seen).toEqual({ pulls: 11, cancelled: true });
  });

  it("a mail arriving in many small pieces is put together in order", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("pieces");
    const raw = crlf(`${head(sender)}\nGrüße — 注文番号 4521, in pieces of seven bytes.\n`);
    const chunks = Array.from({ length: Math.ceil(raw.byteLength / 7) }, (_, i) => () => raw.slice(i * 7, i * 7 + 7));
    const { stream } = pieces(chunks);
    const { m } = await landed(admin, sender, new Uint8Array(0), { raw: stream, rawSize: raw.byteLength });
    expect(m.text).toBe("Grüße — 注文番号 4521, in pieces of seven bytes.");
  });
});

describe("the parser's limits", () => {
  it("over the line budget: refused before parsing with the budget's reason, the size in the log", async () => {
    const sender = freshSender("budget");
    const parts = crlf(`${head(sender, "Content-Type: multipart/mixed; boundary=b\n")}\n${"--b\n".repeat(2_001)}`);
    const p = await refused(parts, { from: sender });
    expect(p).toEqual({
      reason: REFUSED.tooManyParts,
      log: {
        event: "email.refused",
        from: sender,
        to: SUPPORT,
        reason: REFUSED.tooManyParts,
        detail: `${parts.byteLength} bytes`,
      },
    });
    const lines = crlf(`${head(sender)}\n${"\n".repeat(60_000)}x\n`);
    expect((await refused(lines, { from: sender })).reason).toBe(REFUSED.tooManyLines);
  });

  it("MIME nested 19 multiparts deep is read; 20 deep is refused, the parser's words in the log", async () => {
    const admin = await signInAdmin();
    const nest = (from: string, n: number) => {
      let m = `${head(from, "Content-Type: multipart/mixed; boundary=b0\n")}\n`;
      for (let i = 0; i < n; i++) m += `--b${i}\nContent-Type: multipart/mixed; boundary=b${i + 1}\n\n`;
      return `${m}--b${n}\nContent-Type: text/plain\n\ndeep\n`;
    };
    const ok = freshSender("nest-19");
    expect((await landed(admin, ok, nest(ok, 19))).m.text).toBe("deep");
    const deep = freshSender("nest-20");
    const { reason, log } = await refused(nest(deep, 20), { from: deep });
    expect(reason).toBe(REFUSED.unparseable);
    expect(log.detail).toBe("Error: Maximum MIME nesting depth of 20 levels exceeded");
  });

  it("256 KiB of header lines is read; one byte more is refused", async () => {
    const admin = await signInAdmin();
    // The header lines without their line ends add up to `size`.
    const mail = (from: string, size: number) => {
      const lines = [`From: ${from}`, `To: ${SUPPORT}`, `Message-ID: ${mid()}`];
      const used = lines.join("").length + "X-Filler: ".length;
      return `${lines.join("\n")}\nX-Filler: ${"x".repeat(size - used)}\n\nHeaders at the limit\n`;
    };
    const ok = freshSender("headers-ok");
    expect((await landed(admin, ok, mail(ok, 256 * 1024))).m.text).toBe("Headers at the limit");
    const big = freshSender("headers-big");
    const { reason, log } = await refused(mail(big, 256 * 1024 + 1), { from: big });
    expect(reason).toBe(REFUSED.unparseable);
    expect(log.detail).toBe("Error: Maximum header size of 262144 bytes exceeded");
  });

  it("messages forwarded inside messages are read two deep; the third is kept as a file", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("forwarded");
    let inner = `From: l3@example.net\nSubject: level 3\n\nText of level 3\n`;
    for (let i = 2; i >= 1; i--) {
      inner = `From: l${i}@example.net\nSubject: level ${i}\nContent-Type: multipart/mixed; boundary=r${i}\n\n--r${i}\nContent-Type: text/plain\n\nText of level ${i}\n--r${i}\nContent-Type: message/rfc822\n\n${inner}\n--r${i}--\n`;
    }
    const raw = `${head(sender, "Content-Type: multipart/mixed; boundary=r0\n")}\n--r0\nContent-Type: text/plain\n\nText of level 0\n--r0\nContent-Type: message/rfc822\n\n${inner}\n--r0--\n`;
    const { m } = await landed(admin, sender, raw);
    expect(m.text.startsWith("Text of level 0\n")).toBe(true);
    expect(m.text.endsWith("Text of level 2")).toBe(true);
    expect(m.text).not.toContain("level 3");
    expect(m.email!.attachments).toEqual([
      { id: expect.any(String), name: "attachment", type: "text/plain", size: expect.any(Number), image: false },
    ]);
    expect(m.email!.skipped).toBeUndefined();
  });
});

describe("who sent it, and mail that is not taken", () => {
  it("no usable sender: refused, the From the mail had in the log (or null)", async () => {
    const nameless = await refused(`From: "" <>\nTo: ${SUPPORT}\nSubject: Returned\n\nUndeliverable\n`, { from: "" });
    expect(nameless).toEqual({
      reason: REFUSED.noSender,
      log: {
        event: "email.refused",
        from: "",
        to: SUPPORT,
        reason: REFUSED.noSender,
        detail: '{"from":{"address":"","name":""}}',
      },
    });
    const none = await refused(`To: ${SUPPORT}\nSubject: Nobody\n\nWho am I\n`, { from: "<>" });
    expect(none.log.detail).toBe('{"from":null}');
  });

  it("automatic mail outside a thread: refused as automatic from a verified sender, with why from another", async () => {
    const sender = freshSender("list");
    const id = mid();
    const list = await refused(
      `From: ${sender}\nTo: ${SUPPORT}\nSubject: News\nList-Id: <news.example.org>\nMessage-ID: ${id}\n\nNews\n`,
      { from: sender },
    );
    expect(list).toEqual({
      reason: REFUSED.automatic,
      log: {
        event: "email.refused",
        from: sender,
        to: SUPPORT,
        reason: REFUSED.automatic,
        detail: JSON.stringify({ messageId: id }),
      },
    });
    const forged = await refused(
      `From: ${sender}\nTo: ${SUPPORT}\nSubject: Away\nAuto-Submitted: auto-replied\nMessage-ID: ${id}\n\nAway\n`,
      { from: "bounce@evil.example" },
    );
    const why = `The envelope sender bounce@evil.example does not match the From address ${sender}.`;
    expect(forged.reason).toBe(`${REFUSED.unverifiedAutomatic}. ${why}`);
    expect(forged.log).toEqual({
      event: "email.refused",
      from: "bounce@evil.example",
      to: SUPPORT,
      reason: `${REFUSED.unverifiedAutomatic}. ${why}`,
      detail: JSON.stringify({ messageId: id }),
    });
  });

  it("a verified sender's plain mail: the text, the envelope and nothing more; the author named as they sign", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("plain");
    const id = mid();
    const { c, m } = await landed(
      admin,
      sender,
      `From: Ann Example <${sender}>\nTo: ${SUPPORT}\nSubject: Hello\nMessage-ID: ${id}\n\nJust text\n`,
    );
    expect(m.text).toBe("Just text");
    expect(m.author).toMatchObject({ role: "visitor", name: "Ann Example" });
    expect(c.visitor.name).toBe("Ann Example");
    expect(m.email).toEqual({
      subject: "Hello",
      from: { name: "Ann Example", address: sender },
      to: SUPPORT,
      messageId: id,
    });
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)));
    expect(m.clientId).toBe(`email:${base64url(digest)}`);
  });

  it("a nameless sender's empty mail without a Message-ID: (empty message), by their address, an id from its bytes", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("empty");
    const raw = crlf(`From: ${sender}\nTo: ${SUPPORT}\nSubject: \n\n`);
    const { m } = await landed(admin, sender, raw);
    expect(m.text).toBe("(empty message)");
    expect(m.author.name).toBe(sender);
    const id = await fallbackMessageId(raw);
    expect(m.email).toEqual({
      subject: "(no subject)",
      from: { name: "", address: sender },
      to: SUPPORT,
      messageId: id,
    });
  });

  it("a sender that is not verified: kept, in a conversation of its own, saying why", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("forged");
    const { m } = await landed(admin, sender, `${head(sender)}\nNot me\n`, { from: "someone@evil.example" });
    expect(m.email!.unverified).toBe(
      `The envelope sender someone@evil.example does not match the From address ${sender}.`,
    );
  });

  it("a reply joins its conversation by In-Reply-To, by References alone, and by the reply address's token", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("joins");
    const first = mid();
    const { c } = await landed(
      admin,
      sender,
      `From: ${sender}\nTo: ${SUPPORT}\nSubject: Q\nMessage-ID: ${first}\n\nOne\n`,
    );
    const second = mid();
    await deliver(`From: ${sender}\nTo: ${SUPPORT}\nMessage-ID: ${second}\nIn-Reply-To: ${first}\n\nTwo\n`, {
      from: sender,
    });
    await deliver(`From: ${sender}\nTo: ${SUPPORT}\nMessage-ID: ${mid()}\nReferences: <x@y> ${second}\n\nThree\n`, {
      from: sender,
    });
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName(env.WORKSPACE_ID));
    const token = await ws.ensureEmailThread(c.id, "ignored", sender);
    const to = `support+${token}@microchat.example`;
    await deliver(`From: ${sender}\nTo: ${to}\nMessage-ID: ${mid()}\n\nFour\n`, { from: sender, to });
    expect((await messagesOf(admin, c.id)).map((m) => m.text)).toEqual(["One", "Two", "Three", "Four"]);
    expect(await findBySender(admin, sender)).toHaveLength(1);
  });
});

describe("attachments", () => {
  it("ten stored like chat files; empty ones, unknown types and the eleventh on are named as skipped", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("files");
    const texts = Array.from({ length: 10 }, (_, i) => part(`t${i + 1}.txt`, `text file ${i + 1}`));
    const raw = multipart(sender, "See attached", [
      part("a.png", PNG),
      part(null, ""),
      part("page.txt", "<html><script>x()</script></html>"),
      ...texts,
    ]);
    const { c, m } = await landed(admin, sender, raw);
    const stored = m.email!.attachments!;
    expect(stored.map((f) => [f.name, f.type, f.size, f.image])).toEqual([
      ["a.png", "image/png", 70, true],
      ...Array.from({ length: 9 }, (_, i) => [`t${i + 1}.txt`, "text/plain", `text file ${i + 1}`.length, false]),
    ]);
    expect(m.email!.skipped).toEqual(["attachment", "page.txt", "t10.txt"]);
    // In R2 as a chat file is: the bytes, the type, the name, the conversation and who uploaded it.
    const png = await env.ATTACHMENTS.get(fileKey(c.id, stored[0]!.id));
    expect(new Uint8Array(await png!.arrayBuffer())).toEqual(PNG);
    expect(png!.httpMetadata?.contentType).toBe("image/png");
    expect(png!.customMetadata).toEqual({ name: "a.png", conversationId: c.id, uploader: `email:${sender}` });
    const t1 = await env.ATTACHMENTS.get(fileKey(c.id, stored[1]!.id));
    expect(await t1!.text()).toBe("text file 1");
    expect(m.email!.original).toBeUndefined();
  });

  it("fifty skipped files are named in full; from fifty-one, the first fifty and how many more", async () => {
    const admin = await signInAdmin();
    const names = Array.from({ length: 51 }, (_, i) => `e${i}.bin`);
    const fifty = freshSender("skip-50");
    const a = await landed(
      admin,
      fifty,
      multipart(
        fifty,
        "Fifty",
        names.slice(0, 50).map((n) => part(n, "")),
      ),
    );
    expect(a.m.email!.skipped).toEqual(names.slice(0, 50));
    expect(a.m.email!.attachments).toBeUndefined();
    const more = freshSender("skip-51");
    const b = await landed(
      admin,
      more,
      multipart(
        more,
        "Fifty-one",
        names.map((n) => part(n, "")),
      ),
    );
    expect(b.m.email!.skipped).toEqual([...names.slice(0, 50), "… and 1 more"]);
  });
});

describe("the mail as it arrived, and files left behind", () => {
  const longText = "word ".repeat(14_000); // 70,000 characters: over the 64 KiB shown

  it("when part of a mail is not shown, the mail as it arrived is kept as an .eml file of the conversation", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("original");
    const raw = crlf(`${head(sender)}\n${longText}\n`);
    const { c, m } = await landed(admin, sender, raw);
    // Counted as the parser gives the text, before it is cleaned: 70,000 characters and the line end.
    expect(m.email!.cut).toEqual(["The text is 70,001 characters long; the first 65,536 are shown."]);
    expect(m.email!.original).toEqual({
      id: expect.any(String),
      name: "original-message.eml",
      type: "message/rfc822",
      size: raw.byteLength,
      image: false,
    });
    const kept = await env.ATTACHMENTS.get(fileKey(c.id, m.email!.original!.id));
    expect(new Uint8Array(await kept!.arrayBuffer())).toEqual(raw);
    expect(kept!.httpMetadata?.contentType).toBe("message/rfc822");
    expect(kept!.customMetadata).toEqual({
      name: "original-message.eml",
      conversationId: c.id,
      uploader: `email:${sender}`,
    });
  });

  it("a mail delivered again keeps the first copy's files only", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("again");
    const raw = multipart(sender, longText, [part("note.txt", "a note")]);
    const { c, m } = await landed(admin, sender, raw);
    expect(await deliver(raw, { from: sender })).toEqual([]);
    expect(await messagesOf(admin, c.id)).toHaveLength(1);
    const listed = await env.ATTACHMENTS.list({ prefix: `conversations/${c.id}/` });
    expect(listed.objects.map((o) => o.key).sort()).toEqual(
      [fileKey(c.id, m.email!.attachments![0]!.id), fileKey(c.id, m.email!.original!.id)].sort(),
    );
  });

  it("a reply that cannot be delivered (its conversation was deleted) is refused and leaves no files", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("late");
    const first = mid();
    const { c } = await landed(
      admin,
      sender,
      `From: ${sender}\nTo: ${SUPPORT}\nSubject: Hi\nMessage-ID: ${first}\n\nHi\n`,
    );
    await env.CONVERSATION.get(env.CONVERSATION.idFromName(c.id)).erase(c.id, env.WORKSPACE_ID);
    const late = multipart(sender, `${longText}\nStill there?`, [part("late.txt", "a late file")]);
    const { reason, log } = await refused(late.replace("Subject: Rules\n", `Subject: Re\nIn-Reply-To: ${first}\n`), {
      from: sender,
    });
    expect(reason).toBe("Not delivered: This conversation was deleted");
    expect(log).toEqual({
      event: "email.refused",
      from: sender,
      to: SUPPORT,
      reason,
      detail: JSON.stringify({ conversationId: c.id }),
    });
    expect((await env.ATTACHMENTS.list({ prefix: `conversations/${c.id}/` })).objects).toEqual([]);
  });
});
