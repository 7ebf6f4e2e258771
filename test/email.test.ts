import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import PostalMime from "postal-mime";
import { buildReply } from "../worker/email/outbound";
import { REFUSED, trimQuoted } from "../worker/email/parse";
import type { Env } from "../worker/env";
import worker from "../worker/index";
import { LIMITS, type Message, type VisitorInfo, type VisitorThreadsResponse } from "../worker/protocol";
import { cleanLine, personName } from "../worker/validate/text";
import { deliver, eventually, findBySender, freshSender, inbound, messagesOf, mid, SUPPORT } from "./mail-helpers";
import {
  fetchApp,
  join,
  json,
  operatorSocket,
  panelSocket,
  signInAdmin,
  newVisitorSession,
  visitorSocket,
  recordSentMail,
  say,
} from "./helpers";

/** A fresh sender mails us about `subject`; the admin joins the conversation it starts. */
async function joinedMailThread(admin: string, subject: string): Promise<{ sender: string; id: string }> {
  const sender = freshSender(subject.toLowerCase().replace(/\W+/g, "-"));
  await deliver(
    `From: Olga <${sender}>\nTo: ${SUPPORT}\nSubject: ${subject}\nMessage-ID: ${mid()}\n\nAbout ${subject}\n`,
    { from: sender },
  );
  const [c] = await eventually(
    () => findBySender(admin, sender),
    (l) => l.length === 1,
  );
  expect(c, `a conversation for ${sender}`).toBeDefined();
  await join(admin, c!.id);
  return { sender, id: c!.id };
}

describe("inbound email", () => {
  it("a multipart/alternative mail creates a conversation in Unassigned, live, with subject, sender and sanitised HTML", async () => {
    const admin = await signInAdmin();
    const panel = await panelSocket(admin);
    await panel.next("index");
    const sender = `alt.${Date.now()}@example.org`;
    const rejected = await deliver(
      `From: "Alice Example" <${sender}>
To: ${SUPPORT}
Subject: Where is my order?
Message-ID: ${mid()}
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Hi, my order #123 has not arrived.

--b1
Content-Type: text/html; charset=utf-8

<p>Hi, my order <b>#123</b> has not arrived.</p><script>alert(1)</script><img src="https://tracker.example/pixel.gif"><a href="javascript:alert(1)">x</a><a href="https://shop.example/o/123" onclick="evil()">order</a><style>p{color:red}</style>
--b1--
`,
      { from: sender },
    );
    expect(rejected).toEqual([]);
    const up = await panel.until("upsert", (f) => f.conversation.visitor.email === sender);
    expect(up.conversation.status).toBe("unassigned");
    expect(up.conversation.visitor.name).toBe("Alice Example");
    const [m] = await messagesOf(admin, up.conversation.id);
    expect(m).toMatchObject({ channel: "email", text: "Hi, my order #123 has not arrived." });
    expect(m!.email).toMatchObject({ subject: "Where is my order?", from: { name: "Alice Example", address: sender } });
    const html = m!.email!.html!;
    expect(html).toContain("<b>#123</b>");
    for (const bad of [
      "<script",
      "alert(1)",
      "<img",
      "tracker.example",
      "javascript:",
      "onclick",
      "<style",
      "color:red",
    ]) {
      expect(html).not.toContain(bad);
    }
    expect(html).toContain('href="https://shop.example/o/123"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
    panel.close();
  });

  it("quoted-printable, a non-UTF-8 charset and an encoded-word subject are decoded", async () => {
    const admin = await signInAdmin();
    const sender = `qp.${Date.now()}@example.org`;
    await deliver(
      `From: =?ISO-8859-1?Q?Bj=F6rn_M=FCller?= <${sender}>
To: ${SUPPORT}
Subject: =?UTF-8?B?UsOpc2VydmF0aW9uIOKAlCBkYXRlIMOgIGNoYW5nZXI=?=
Message-ID: ${mid()}
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe aus K=F6ln, ich m=F6chte die Buchung =E4ndern. Ein sehr langer Sa=
tz, der umbrochen wurde.
`,
      { from: sender },
    );
    const [c] = await eventually(
      () => findBySender(admin, sender),
      (l) => l.length === 1,
    );
    expect(c!.visitor.name).toBe("Björn Müller");
    const [m] = await messagesOf(admin, c!.id);
    expect(m!.email!.subject).toBe("Réservation — date à changer");
    expect(m!.text).toBe("Grüße aus Köln, ich möchte die Buchung ändern. Ein sehr langer Satz, der umbrochen wurde.");
  });

  it("HTML-only mail gets a plain-text version; nested multiparts with base64 attachments store allowed files in R2 and skip the rest", async () => {
    const admin = await signInAdmin();
    const sender = `nested.${Date.now()}@example.org`;
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    await deliver(
      `From: ${sender}
To: ${SUPPORT}
Subject: Screenshot attached
Message-ID: ${mid()}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

${btoa("<div>See the <i>screenshot</i> please</div>")}
--alt--
--rel--
--outer
Content-Type: image/png; name="screen.png"
Content-Disposition: attachment; filename="screen.png"
Content-Transfer-Encoding: base64

${png}
--outer
Content-Type: image/png; name="evil.png"
Content-Disposition: attachment; filename="evil.png"
Content-Transfer-Encoding: base64

${btoa("<html><script>alert(1)</script></html>")}
--outer--
`,
      { from: sender },
    );
    const [c] = await eventually(
      () => findBySender(admin, sender),
      (l) => l.length === 1,
    );
    const [m] = await messagesOf(admin, c!.id);
    expect(m!.text).toBe("See the screenshot please");
    expect(m!.email!.html).toContain("<i>screenshot</i>");
    expect(m!.email!.attachments).toHaveLength(1);
    expect(m!.email!.attachments![0]).toMatchObject({ name: "screen.png", type: "image/png", image: true });
    expect(m!.email!.skipped).toEqual(["evil.png"]);
    const file = await fetchApp(`/api/conversations/${c!.id}/files/${m!.email!.attachments![0]!.id}`, {
      headers: { Cookie: admin },
    });
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBe(70);
  });

  it("a reply is threaded by In-Reply-To for the same sender, and by the token address; another sender is never merged", async () => {
    const admin = await signInAdmin();
    const sender = `thread.${Date.now()}@example.org`;
    const first = mid();
    await deliver(`From: ${sender}\nTo: ${SUPPORT}\nSubject: Help\nMessage-ID: ${first}\n\nFirst mail\n`, {
      from: sender,
    });
    const [c] = await eventually(
      () => findBySender(admin, sender),
      (l) => l.length === 1,
    );

    await deliver(
      `From: ${sender}\nTo: ${SUPPORT}\nSubject: Re: Help\nMessage-ID: ${mid()}\nIn-Reply-To: ${first}\nReferences: ${first}\n\nSecond mail\n\nOn Mon, 1 Jan 2026 at 10:00, Support <${SUPPORT}> wrote:\n> First mail\n`,
      { from: sender },
    );
    // Someone else replies to the same thread (e.g. a colleague in Cc): a conversation of their own.
    const other = `colleague.${Date.now()}@example.org`;
    await deliver(
      `From: ${other}\nTo: ${SUPPORT}\nSubject: Re: Help\nMessage-ID: ${mid()}\nIn-Reply-To: ${first}\n\nMe too\n`,
      {
        from: other,
      },
    );
    const texts = (await messagesOf(admin, c!.id)).map((m) => m.text);
    expect(texts).toEqual(["First mail", "Second mail"]);
    const full = (await messagesOf(admin, c!.id))[1]!.email!.fullText!;
    expect(full).toContain("> First mail");
    const others = await eventually(
      () => findBySender(admin, other),
      (l) => l.length === 1,
    );
    expect(others).toHaveLength(1);
    expect(others[0]!.id).not.toBe(c!.id);

    // The token address of the conversation threads a reply even without headers.
    const { env: e } = await import("cloudflare:test");
    const ws = e.WORKSPACE.get(e.WORKSPACE.idFromName("demo"));
    const token = await ws.ensureEmailThread(c!.id, "ignored", sender);
    await deliver(
      `From: ${sender}\nTo: support+${token}@microchat.example\nSubject: New subject\nMessage-ID: ${mid()}\n\nThird mail\n`,
      {
        from: sender,
        to: `support+${token}@microchat.example`,
      },
    );
    expect((await messagesOf(admin, c!.id)).map((m) => m.text)).toEqual(["First mail", "Second mail", "Third mail"]);
    // The token does not let another sender in.
    await deliver(
      `From: ${other}\nTo: support+${token}@microchat.example\nSubject: hi\nMessage-ID: ${mid()}\n\nSneaky\n`,
      {
        from: other,
        to: `support+${token}@microchat.example`,
      },
    );
    expect((await messagesOf(admin, c!.id)).map((m) => m.text)).not.toContain("Sneaky");
  });

  it("auto-replies, bounces and list mail are never answered: kept in their thread without requeueing, refused otherwise", async () => {
    const admin = await signInAdmin();
    const sender = `ooo.${Date.now()}@example.org`;
    const first = mid();
    await deliver(`From: ${sender}\nTo: ${SUPPORT}\nSubject: Question\nMessage-ID: ${first}\n\nQuestion\n`, {
      from: sender,
    });
    const [c] = await eventually(
      () => findBySender(admin, sender),
      (l) => l.length === 1,
    );
    await join(admin, c!.id);
    await fetchApp(`/api/conversations/${c!.id}/leave`, { method: "POST", headers: { Cookie: admin } });

    await deliver(
      `From: ${sender}\nTo: ${SUPPORT}\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: ${mid()}\nIn-Reply-To: ${first}\n\nI am away\n`,
      { from: sender },
    );
    const msgs = await messagesOf(admin, c!.id);
    expect(msgs.at(-1)!.email!.auto).toBe(true);
    const state = (await (await fetchApp(`/api/conversations/${c!.id}`, { headers: { Cookie: admin } })).json()) as {
      state: { status: string };
    };
    expect(state.state.status).toBe("idle");

    const listSender = `list.${Date.now()}@example.org`;
    const rejected = [
      ...(await deliver(
        `From: ${listSender}\nTo: ${SUPPORT}\nSubject: Weekly news\nPrecedence: bulk\nList-Id: <news.example.org>\n\nNews\n`,
        {
          from: listSender,
        },
      )),
      ...(await deliver(`From: MAILER-DAEMON@example.org\nTo: ${SUPPORT}\nSubject: Undelivered\n\nBounce\n`, {
        from: "",
      })),
    ];
    // Refused, not dropped: the sending server hears why (a bounce's empty envelope cannot vouch for its From).
    expect(rejected).toEqual([
      REFUSED.automatic,
      `${REFUSED.unverifiedAutomatic}. The mail has no envelope sender (as a bounce has), so the From address mailer-daemon@example.org cannot be checked.`,
    ]);
    expect(await findBySender(admin, listSender)).toEqual([]);
    expect(await findBySender(admin, "mailer-daemon@example.org")).toEqual([]);
    // Not stored either (a mail stored without reaching the index would pass the checks above): no
    // conversation thread was opened for either sender.
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName(env.WORKSPACE_ID));
    const threads = await runInDurableObject(workspace, (_o, state) =>
      state.storage.sql
        .exec<{ sender: string }>(
          "SELECT sender FROM email_threads WHERE sender IN (?, ?)",
          listSender,
          "mailer-daemon@example.org",
        )
        .toArray(),
    );
    expect(threads).toEqual([]);
  });

  it("a MIME bomb, huge headers and oversized mail are refused with setReject and a reason", async () => {
    let bomb =
      "From: bomb@example.org\nTo: support@microchat.example\nSubject: bomb\nContent-Type: multipart/mixed; boundary=b0\n\n";
    for (let i = 0; i < 60; i++) bomb += `--b${i}\nContent-Type: multipart/mixed; boundary=b${i + 1}\n\n`;
    bomb += "deep\n";
    expect(await deliver(bomb, { from: "bomb@example.org" })).toEqual([expect.stringMatching(/could not be parsed/)]);

    const headers = Array.from({ length: 4000 }, (_, i) => `X-Filler-${i}: ${"x".repeat(80)}`).join("\n");
    expect(
      await deliver(`From: big@example.org\n${headers}\nSubject: h\n\nbody\n`, { from: "big@example.org" }),
    ).toEqual([expect.stringMatching(/could not be parsed/)]);

    // Over the size limit: refused from the envelope size, the body is never read.
    let pulled = false;
    const raw = new ReadableStream<Uint8Array>(
      {
        pull() {
          pulled = true;
        },
      },
      { highWaterMark: 0 },
    );
    expect(await deliver("", { from: "huge@example.org", rawSize: 30 * 1024 * 1024, raw })).toEqual([
      expect.stringMatching(/too large/),
    ]);
    expect(pulled).toBe(false);
  });
});

describe("real-world mail: odd, refused, nothing lost silently", () => {
  it("every refusal reaches the sender as a reason and the log as a line: list mail, a nameless bounce, a reply racing a deletion", async () => {
    const admin = await signInAdmin();
    const warn = vi.spyOn(console, "warn");
    try {
      const list = `list.${Date.now()}@example.org`;
      expect(
        await deliver(
          `From: ${list}\nTo: ${SUPPORT}\nSubject: News\nList-Id: <n.example.org>\nMessage-ID: ${mid()}\n\nNews\n`,
          {
            from: list,
          },
        ),
      ).toEqual([REFUSED.automatic]);
      expect(
        await deliver(`From: "" <>\nTo: ${SUPPORT}\nSubject: Returned mail\n\nUndeliverable\n`, { from: "" }),
      ).toEqual([REFUSED.noSender]);

      // A reply racing the conversation's deletion: the thread still points at a conversation that is gone.
      const sender = `gone.${Date.now()}@example.org`;
      const first = mid();
      await deliver(`From: ${sender}\nTo: ${SUPPORT}\nSubject: Hi\nMessage-ID: ${first}\n\nFirst\n`, { from: sender });
      const [c] = await eventually(
        () => findBySender(admin, sender),
        (l) => l.length === 1,
      );
      await env.CONVERSATION.get(env.CONVERSATION.idFromName(c!.id)).erase(c!.id, env.WORKSPACE_ID);
      const late = await deliver(
        `From: ${sender}\nTo: ${SUPPORT}\nSubject: Re: Hi\nMessage-ID: ${mid()}\nIn-Reply-To: ${first}\n\nStill there?\n`,
        { from: sender },
      );
      expect(late).toEqual([expect.stringMatching(/^Not delivered: .*deleted/)]);

      // One structured line per refusal: the event, the envelope, the reason.
      const logged = warn.mock.calls
        .map((args) => args[0] as { event?: string; from?: string; to?: string; reason?: string })
        .filter((line) => line?.event === "email.refused");
      expect(logged, JSON.stringify(warn.mock.calls)).toEqual([
        expect.objectContaining({ from: list, to: SUPPORT, reason: REFUSED.automatic }),
        expect.objectContaining({ reason: REFUSED.noSender }),
        expect.objectContaining({ from: sender, reason: expect.stringContaining("deleted") }),
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it("a mail delivered twice (a sender's retry) is stored once, in one conversation, with or without a Message-ID", async () => {
    const admin = await signInAdmin();
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName(env.WORKSPACE_ID));
    for (const messageIdHeader of ["", `Message-ID: ${mid()}\n`]) {
      const sender = freshSender("retry");
      const raw = `From: ${sender}\nTo: ${SUPPORT}\nSubject: Retry\n${messageIdHeader}Date: Mon, 1 Jan 2026 10:00:00 +0000\n\nSent once, delivered twice\n`;
      expect(await deliver(raw, { from: sender })).toEqual([]);
      expect(await deliver(raw, { from: sender })).toEqual([]);
      const threads = await runInDurableObject(workspace, (_o, state) =>
        state.storage.sql
          .exec<{ id: string }>("SELECT conversation_id AS id FROM email_threads WHERE sender = ?", sender)
          .toArray(),
      );
      expect(threads, messageIdHeader || "no Message-ID").toHaveLength(1);
      const msgs = await messagesOf(admin, threads[0]!.id);
      expect(msgs.map((m) => m.text)).toEqual(["Sent once, delivered twice"]);
      if (!messageIdHeader) expect(msgs[0]!.email!.messageId).toMatch(/^<[A-Za-z0-9_-]+@microchat\.invalid>$/);
    }
  });

  it("a temporary failure (storage down) throws, so the sender retries; the retry is stored once, files and all", async () => {
    const admin = await signInAdmin();
    const sender = freshSender("tempfail");
    const raw = `From: ${sender}
To: ${SUPPORT}
Subject: Invoice
Message-ID: ${mid()}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

The invoice is attached
--b
Content-Type: text/plain; name="invoice.txt"
Content-Disposition: attachment; filename="invoice.txt"

Total: 42
--b--
`;
    // R2 is down for this delivery: every write fails, after the mail was routed to a conversation.
    let puts = 0;
    const down = {
      ...env,
      ATTACHMENTS: new Proxy(env.ATTACHMENTS, {
        get: (target, key) =>
          key === "put"
            ? () => {
                puts++;
                throw new Error("R2 is unavailable");
              }
            : Reflect.get(target, key, target),
      }),
    } as Env;
    const first = inbound(raw, { from: sender });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await expect(worker.email(first.message, down)).rejects.toThrow("R2 is unavailable");
    errors.mockRestore();
    expect(puts, "the delivery reached storage").toBeGreaterThan(0);
    // Not setReject: that is a permanent SMTP error, and the sender would never try again.
    expect(first.rejected).toEqual([]);
    expect(await findBySender(admin, sender), "what a failed delivery left in the index").toEqual([]);

    // The sender's server tries again later, and storage is back.
    expect(await deliver(raw, { from: sender })).toEqual([]);
    const [conversation, ...others] = await eventually(
      () => findBySender(admin, sender),
      (list) => list.length > 0,
    );
    expect(others, "conversations for one mail").toEqual([]);
    const msgs = await messagesOf(admin, conversation!.id);
    expect(msgs.map((m) => m.text)).toEqual(["The invoice is attached"]);
    expect(msgs[0]!.email!.attachments?.map((f) => f.name)).toEqual(["invoice.txt"]);
    const threads = await runInDurableObject(
      env.WORKSPACE.get(env.WORKSPACE.idFromName(env.WORKSPACE_ID)),
      (_o, state) =>
        state.storage.sql
          .exec<{ id: string }>("SELECT conversation_id AS id FROM email_threads WHERE sender = ?", sender)
          .toArray(),
    );
    expect(threads).toEqual([{ id: conversation!.id }]);
  });

  it("a sender's name gets the rule of every name, as one typed in the chat: one line, no control characters, 80 characters", async () => {
    const admin = await signInAdmin();
    // Tab, newline, BEL, CR LF and trailing blanks, in an encoded word as a mailer may write them.
    const written = "Alice\t\n \u0007Example\r\n   ";
    const encoded = "=?UTF-8?Q?Alice=09=0A_=07Example=0D=0A___?=";
    const long = `${"Bartholomew ".repeat(10)}Jr.`;
    for (const [header, chat] of [
      [encoded, personName.parse(written)],
      [long, cleanLine(long).slice(0, LIMITS.nameChars).trimEnd()],
    ] as const) {
      const sender = freshSender("named");
      await deliver(`From: ${header} <${sender}>\nTo: ${SUPPORT}\nSubject: Hi\nMessage-ID: ${mid()}\n\nHello\n`, {
        from: sender,
      });
      const [c] = await eventually(
        () => findBySender(admin, sender),
        (l) => l.length === 1,
      );
      expect(c!.visitor.name, header).toBe(chat);
      expect((await messagesOf(admin, c!.id))[0]!.email!.from.name, header).toBe(chat);
    }
    expect(personName.parse(written)).toBe("Alice Example");
  });

  it("a mail whose From is missing or unusable is kept under the envelope sender", async () => {
    const admin = await signInAdmin();
    const cases: [string, string][] = [
      ["no From header", ""],
      ["an empty mailbox", `From: "" <>\n`],
      ["an address without a domain", "From: Somebody <somebody>\n"],
      ["a display name only", "From: Customer Care\n"],
    ];
    for (const [what, fromHeader] of cases) {
      const envelope = freshSender("envelope");
      const rejected = await deliver(
        `${fromHeader}To: ${SUPPORT}\nSubject: ${what}\nMessage-ID: ${mid()}\n\nBody of ${what}\n`,
        {
          from: envelope,
        },
      );
      expect(rejected, what).toEqual([]);
      const [c] = await eventually(
        () => findBySender(admin, envelope),
        (l) => l.length === 1,
      );
      expect(c, what).toBeDefined();
      expect(
        (await messagesOf(admin, c!.id)).map((m) => m.text),
        what,
      ).toEqual([`Body of ${what}`]);
    }
  });

  it("charsets the decoder does not know are decoded with a fallback, and the mail is kept", async () => {
    const admin = await signInAdmin();
    for (const charset of ["ansi-x3.4-1968", "unknown-8bit", "default", "x-user-unknown", "utf-7"]) {
      const sender = freshSender("cs");
      const head = `From: ${sender}\r\nTo: ${SUPPORT}\r\nSubject: =?${charset}?Q?Caf=E9?=\r\nMessage-ID: ${mid()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\nPlain ASCII, then one byte: caf`;
      const bytes = new Uint8Array([...new TextEncoder().encode(head), 0xe9, 0x0d, 0x0a]);
      const { message, rejected } = inbound("", {
        from: sender,
        raw: new Response(bytes).body!,
        rawSize: bytes.byteLength,
      });
      await worker.email(message, env);
      expect(rejected, charset).toEqual([]);
      const [c] = await eventually(
        () => findBySender(admin, sender),
        (l) => l.length === 1,
      );
      const [m] = await messagesOf(admin, c!.id);
      expect(m!.text, charset).toMatch(/^Plain ASCII, then one byte: caf./);
      expect(m!.email!.subject, charset).toMatch(/^Caf./);
    }
  });

  it("a very long mail and one with many attachments say what was not kept", async () => {
    const admin = await signInAdmin();
    const sender = `long.${Date.now()}@example.org`;
    const body = "word ".repeat(20_000); // 100,000 characters
    await deliver(`From: ${sender}\nTo: ${SUPPORT}\nSubject: Long\nMessage-ID: ${mid()}\n\n${body}\n`, {
      from: sender,
    });
    const [c] = await eventually(
      () => findBySender(admin, sender),
      (l) => l.length === 1,
    );
    const [m] = await messagesOf(admin, c!.id);
    expect(m!.text).toMatch(/\[… \d+ more characters not shown\]$/);

    const many = `many.${Date.now()}@example.org`;
    let mail = `From: ${many}\nTo: ${SUPPORT}\nSubject: Files\nMessage-ID: ${mid()}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nSeventy files\n`;
    for (let i = 0; i < 70; i++) {
      mail += `--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f${i}.bin\nContent-Transfer-Encoding: base64\n\n${btoa("x" + i)}\n`;
    }
    await deliver(`${mail}--b--\n`, { from: many });
    const [d] = await eventually(
      () => findBySender(admin, many),
      (l) => l.length === 1,
    );
    const [f] = await messagesOf(admin, d!.id);
    // Ten are kept; the other sixty are named (fifty of them) or counted, none vanish without a trace.
    expect(f!.email!.attachments).toHaveLength(10);
    expect(f!.email!.skipped).toHaveLength(51);
    expect(f!.email!.skipped!.slice(0, 2)).toEqual(["f10.bin", "f11.bin"]);
    expect(f!.email!.skipped!.at(-1)).toBe("… and 10 more");
  });
});

describe("email contacts in the visitor panel", () => {
  it("an email-only contact has no web info, says where their mail came, and lists their other threads", async () => {
    const admin = await signInAdmin();
    const sender = `threads.${Date.now()}@example.org`;
    const mails = ["First question", "Second question"];
    for (const subject of mails) {
      await deliver(
        `From: Ines <${sender}>\nTo: ${SUPPORT}\nSubject: ${subject}\nMessage-ID: ${mid()}\n\n${subject}\n`,
        {
          from: sender,
        },
      );
    }
    // Someone else's mail is never among them.
    await deliver(`From: other.${sender}\nTo: ${SUPPORT}\nSubject: Other\nMessage-ID: ${mid()}\n\nOther\n`, {
      from: `other.${sender}`,
    });
    const mine = await eventually(
      () => findBySender(admin, sender),
      (l) => l.length === 2,
    );
    expect(mine).toHaveLength(2);
    const [newer, older] = mine.sort((a, b) => b.lastAt - a.lastAt);

    const res = await fetchApp(`/api/conversations/${older!.id}/visitor`, { headers: { Cookie: admin } });
    const { visitor } = (await res.json()) as { visitor: VisitorInfo };
    expect(visitor).toMatchObject({
      email: sender,
      web: false,
      ip: null,
      browser: null,
      location: null,
      referrer: null,
    });
    expect(visitor.mail).toMatchObject({ to: SUPPORT, count: 1 });
    expect(visitor.pages.count).toBe(0);

    const threads = async (id: string, cookie = admin) =>
      fetchApp(`/api/conversations/${id}/threads`, { headers: cookie ? { Cookie: cookie } : {} });
    const list = (await (await threads(older!.id)).json()) as VisitorThreadsResponse;
    expect(list.conversations.map((c) => c.id)).toEqual([newer!.id]);
    expect(list.conversations[0]!.preview).toBe("Second question");
    expect((await threads(older!.id, "")).status).toBe(401);
    expect((await threads("no-such-conversation-id0")).status).toBe(404);
  });
});

describe("outbound email", () => {
  it("an operator replies on the Email channel: the message is stored, acked, sent and marked sent", async () => {
    const admin = await signInAdmin();
    const { sender, id } = await joinedMailThread(admin, "Refund");
    const op = await operatorSocket(admin, id);
    await op.next("welcome");
    op.send({ type: "send", clientId: "mail-1", text: "Your refund is on its way.", channel: "email" });
    const ack = await op.until("ack", (a) => a.clientId === "mail-1");
    const delivery = await op.until("delivery", (d) => d.seq === ack.seq);
    expect(delivery.delivery).toEqual({ state: "sent" });
    const stored = (await messagesOf(admin, id)).find((m) => m.seq === ack.seq)!;
    expect(stored).toMatchObject({ channel: "email", delivery: { state: "sent" } });
    expect(stored.email).toMatchObject({ subject: "Re: Refund", to: sender, from: { address: SUPPORT } });
    op.close();
  });

  it("the email channel is refused with a clear error when the visitor has no address", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hi");
    await join(admin, session.conversationId);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    op.send({ type: "send", clientId: "no-mail", text: "hello", channel: "email" });
    // A refusal the socket protocol has no code for is a refused frame, in the refusal's own words.
    expect(await op.next("error")).toEqual({
      type: "error",
      code: "bad_frame",
      message: "This visitor has not given an email address",
      clientId: "no-mail",
    });
    // A visitor cannot send on the email channel.
    v.send({ type: "send", clientId: "v-mail", text: "x", channel: "email" });
    expect((await v.next("error")).code).toBe("forbidden");
    v.close();
    op.close();
  });

  it("each email message keeps the address it came to or went out from when Settings change", async () => {
    const admin = await signInAdmin();
    const { id } = await joinedMailThread(admin, "Address change");
    const op = await operatorSocket(admin, id);
    await op.next("welcome");
    const reply = async (clientId: string) => {
      op.send({ type: "send", clientId, text: `Reply ${clientId}`, channel: "email" });
      const ack = await op.until("ack", (a) => a.clientId === clientId);
      await op.until("delivery", (d) => d.seq === ack.seq);
    };
    const setAddress = async (emailAddress: string) => {
      const res = await fetchApp("/api/settings", { ...json({ emailAddress }, { Cookie: admin }), method: "PUT" });
      expect(res.status).toBe(200);
    };
    await reply("before-change");
    await setAddress("help@acme.example");
    try {
      await reply("after-change");
      const mail = (await messagesOf(admin, id)).filter((m) => m.channel === "email");
      expect(mail.map((m) => [m.author.role, m.email?.to, m.email?.from.address])).toEqual([
        ["visitor", SUPPORT, expect.stringMatching(/@example\.org$/)],
        ["operator", expect.stringMatching(/@example\.org$/), SUPPORT],
        ["operator", expect.stringMatching(/@example\.org$/), "help@acme.example"],
      ]);
    } finally {
      await setAddress(SUPPORT);
      op.close();
    }
  });

  it("a file an operator sends on the Email channel goes out as an attachment of a reply", async () => {
    const admin = await signInAdmin();
    const { sender, id } = await joinedMailThread(admin, "Receipt");
    const op = await operatorSocket(admin, id);
    await op.next("welcome");
    const sent = await recordSentMail(id);
    const pdf = new TextEncoder().encode("%PDF-1.4\n% receipt 4521\n" + "x".repeat(3000) + "\n%%EOF\n");
    const form = new FormData();
    form.set("file", new File([pdf], "receipt.pdf"));
    form.set("clientId", "file-mail-1");
    form.set("channel", "email");
    const res = await fetchApp(`/api/conversations/${id}/files`, {
      method: "POST",
      headers: { Cookie: admin },
      body: form,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { message } = (await res.json()) as { message: Message };
    expect(message).toMatchObject({ kind: "file", channel: "email", delivery: { state: "sending" } });
    expect(message.email).toMatchObject({ subject: "Re: Receipt", to: sender });
    const delivery = await op.until("delivery", (d) => d.seq === message.seq);
    expect(delivery.delivery).toEqual({ state: "sent" });

    expect(sent).toHaveLength(1);
    const mail = await PostalMime.parse(sent[0]!);
    expect(mail.subject).toBe("Re: Receipt");
    expect(mail.to?.map((t) => t.address)).toEqual([sender]);
    expect(mail.attachments.map((a) => [a.filename, a.mimeType])).toEqual([["receipt.pdf", "application/pdf"]]);
    expect(new Uint8Array(mail.attachments[0]!.content as ArrayBuffer)).toEqual(pdf);
    op.close();
  });

  it("a file too large for an email is refused with a clear error", async () => {
    const admin = await signInAdmin();
    const { id } = await joinedMailThread(admin, "Docs");
    const send = (bytes: number, clientId: string) => {
      const pdf = new Uint8Array(bytes);
      pdf.set(new TextEncoder().encode("%PDF-1.4\n"));
      const form = new FormData();
      form.set("file", new File([pdf], `${clientId}.pdf`));
      form.set("clientId", clientId);
      form.set("channel", "email");
      return fetchApp(`/api/conversations/${id}/files`, { method: "POST", headers: { Cookie: admin }, body: form });
    };
    // One byte over the limit the panel also checks (LIMITS.emailFileBytes, about 3.7 MB).
    const res = await send(LIMITS.emailFileBytes + 1, "one-too-many");
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "too_large_for_email",
      message: expect.stringMatching(/at most 5 MB/),
    });
    // Nothing half-stored: no message, no object in R2.
    expect((await messagesOf(admin, id)).filter((m) => m.kind === "file")).toEqual([]);
    expect((await env.ATTACHMENTS.list({ prefix: `conversations/${id}/` })).objects).toEqual([]);
    // Exactly at the limit it goes, and the mail it makes fits under the 5 MiB Cloudflare takes.
    const sent = await recordSentMail(id);
    const fits = await send(LIMITS.emailFileBytes, "at-the-limit");
    expect(fits.status, await fits.clone().text()).toBe(201);
    const mailed = await eventually(
      async () => sent.length,
      (n) => n > 0,
      10_000,
    );
    expect(mailed).toBe(1);
    expect(sent[0]!.length).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it("replies are MIME with threading headers, a Reply-To back to the conversation, and text + HTML parts", async () => {
    const raw = buildReply({
      from: { name: "Acme Support", address: SUPPORT },
      to: "olga@example.org",
      replyTo: "support+abcdefghijklmnop@microchat.example",
      subject: "Re: Refund",
      text: "Line one\n<b>not bold</b>",
      messageId: "<out1@microchat.example>",
      inReplyTo: "<in1@example.org>",
      references: ["<in1@example.org>", "<out0@microchat.example>"],
      attachment: { name: "receipt.pdf", type: "application/pdf", bytes: new TextEncoder().encode("%PDF-1.4") },
    });
    expect(raw).toMatch(/^Reply-To: <support\+abcdefghijklmnop@microchat\.example>/m);
    expect(raw).toMatch(/^Message-ID: <out1@microchat\.example>/m);
    expect(raw).toMatch(/^In-Reply-To: <in1@example\.org>/m);
    expect(raw).toMatch(/^References: <in1@example\.org> <out0@microchat\.example>/m);
    const parsed = await PostalMime.parse(raw);
    expect(parsed.text?.trim()).toBe("Line one\n<b>not bold</b>");
    expect(parsed.html).toContain("&lt;b&gt;not bold&lt;/b&gt;");
    expect(parsed.subject).toBe("Re: Refund");
    expect(parsed.attachments.map((a) => a.filename)).toEqual(["receipt.pdf"]);
  });

  it("non-ASCII names, subjects and file names survive as encoded words; no input can add a header", async () => {
    const subject = "Re: Ihre Bestellung über 3 × „Größe XL“ — 注文番号 4521 ".repeat(3).trim();
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) % 256);
    const raw = buildReply({
      from: { name: 'Åsa "the" Support\r\nBcc: victim@example.org', address: SUPPORT },
      to: "olga@example.org",
      replyTo: "support+abcdefghijklmnop@microchat.example",
      subject: `${subject}\r\nBcc: victim@example.org`,
      text: "Grüße 👋",
      messageId: "<out2@microchat.example>",
      inReplyTo: null,
      references: [],
      attachment: { name: "Rechnung Nr. 5 – März.pdf", type: "application/pdf", bytes },
    });
    // Every line of the header block is a header or a folded continuation; none is an injected Bcc.
    const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
    expect(head).not.toMatch(/^Bcc:/im);
    for (const line of raw.split("\r\n")) expect(line.length, line.slice(0, 80)).toBeLessThanOrEqual(998);
    expect(raw).not.toMatch(/[^\r]\n/);
    const parsed = await PostalMime.parse(raw);
    expect(parsed.subject).toBe(`${subject} Bcc: victim@example.org`);
    expect(parsed.from).toMatchObject({ name: 'Åsa "the" Support Bcc: victim@example.org', address: SUPPORT });
    expect(parsed.text?.trim()).toBe("Grüße 👋");
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]!.filename).toBe("Rechnung Nr. 5 – März.pdf");
    expect(new Uint8Array(parsed.attachments[0]!.content as ArrayBuffer)).toEqual(bytes);
    expect(parsed.headers.find((h) => h.key === "date")?.value).toMatch(/^\w{3}, \d{2} \w{3} \d{4} [\d:]{8} \+0000$/);
  });
});

describe("settings", () => {
  it("an admin sets the sending address; others cannot; bad input is refused", async () => {
    const admin = await signInAdmin();
    const get = (await (await fetchApp("/api/settings", { headers: { Cookie: admin } })).json()) as {
      emailAddress: string;
    };
    expect(get.emailAddress).toBe(SUPPORT);
    const bad = await fetchApp("/api/settings", {
      ...json({ emailAddress: "nope" }, { Cookie: admin }),
      method: "PUT",
    });
    expect(bad.status).toBe(400);
    const unknown = await fetchApp("/api/settings", { ...json({ admin: true }, { Cookie: admin }), method: "PUT" });
    expect(unknown.status).toBe(400);
    const ok = await fetchApp("/api/settings", {
      ...json({ emailAddress: "Help@Acme.example", emailName: "Acme" }, { Cookie: admin }),
      method: "PUT",
    });
    expect(await ok.json()).toEqual({
      emailAddress: "help@acme.example",
      emailName: "Acme",
      retentionDays: 0,
      surveyByEmail: false,
      deleteBy: "admins_and_joined",
    });
    expect((await fetchApp("/api/settings")).status).toBe(401);
  });
});

describe("HTML-only mail as text", () => {
  it("drops tags, decodes entities and keeps blocks on their own lines", async () => {
    const { htmlToText } = await import("../worker/email/html");
    expect(
      htmlToText("<p>Fish &amp; chips &lt;3</p><p>Line&nbsp;two<br>three &#8364;</p><script>x()</script>").text,
    ).toBe("Fish & chips <3\nLine two\nthree €");
  });
});

describe("quote trimming", () => {
  it("keeps the new part of a reply", () => {
    expect(trimQuoted("Thanks!\n\nOn Tue, 2 Jan 2026, Bob <b@x.org> wrote:\n> old")).toBe("Thanks!");
    expect(trimQuoted("Yes\n-----Original Message-----\nFrom: x")).toBe("Yes");
    expect(trimQuoted("Sure\nFrom: Support <s@x.org>\nSent: Monday\nold")).toBe("Sure");
    expect(trimQuoted("> only quote")).toBe("> only quote");
  });
});
