/**
 * The reply's MIME as written (worker/email/outbound.ts), line by line: mail
 * readers accept much that is not what we mean to send, so the parsed-back
 * tests in email.test.ts cannot notice a malformed header that still parses.
 * Here a fixed mail is compared exactly (boundaries named, as they are random),
 * and each encoder is walked at its edges: RFC 2047 words at 45 bytes and
 * never inside a character, quoted and encoded display names, RFC 2231 file
 * names with upper-case escapes, base64 lines of 76, the date, the subject's
 * single `Re:` and the reply address's token.
 */
import { describe, expect, it } from "vitest";
import { buildReply, replySubject, tokenAddress, type OutboundEmail } from "../worker/email/outbound";

const at = new Date(Date.UTC(2026, 11, 1, 9, 5, 7));
const base: OutboundEmail = {
  from: { name: "Acme Support", address: "support@acme.example" },
  to: "ann@example.org",
  replyTo: "support+tok@acme.example",
  subject: "Re: Your order",
  text: "Hello <Ann> & \"friends\" 'all'",
  messageId: "<m1@acme.example>",
  inReplyTo: "<v1@example.org>",
  references: ["<v0@example.org>", "<v1@example.org>"],
};

/** The mail with its random boundaries named ALT and MIXED. */
function written(mail: OutboundEmail): string {
  const raw = buildReply(mail, at);
  const names = [...new Set(raw.match(/=_(alt|mixed)_[0-9a-f]{32}/g) ?? [])];
  let out = raw;
  for (const n of names) out = out.split(n).join(n.startsWith("=_alt") ? "ALT" : "MIXED");
  return out;
}
const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
const header = (raw: string, name: string) =>
  raw
    .split("\r\n\r\n")[0]!
    .replace(/\r\n /g, "\n ")
    .split("\r\n")
    .find((l) => l.startsWith(`${name}: `));

describe("the reply's MIME", () => {
  it("a plain reply, exactly", () => {
    const html = `<div style="font-family:sans-serif;white-space:pre-wrap">Hello &lt;Ann&gt; &amp; &quot;friends&quot; &#39;all&#39;</div>`;
    expect(written(base)).toBe(
      [
        'From: "Acme Support" <support@acme.example>',
        "To: <ann@example.org>",
        "Reply-To: <support+tok@acme.example>",
        "Subject: Re: Your order",
        "Date: Tue, 01 Dec 2026 09:05:07 +0000",
        "Message-ID: <m1@acme.example>",
        "In-Reply-To: <v1@example.org>",
        "References: <v0@example.org> <v1@example.org>",
        "Auto-Submitted: no",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="ALT"',
        "",
        "--ALT",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        "",
        b64(base.text),
        "--ALT",
        "Content-Type: text/html; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        "",
        b64(html)
          .match(/.{1,76}/g)!
          .join("\r\n"),
        "--ALT--",
        "",
      ].join("\r\n"),
    );
  });

  it("with an attachment: mixed around alternative, the file's type checked and its name encoded", () => {
    const bytes = new Uint8Array(100).map((_, i) => i);
    const raw = written({
      ...base,
      inReplyTo: null,
      references: [],
      autoSubmitted: "auto-generated",
      attachment: { name: 'Prix €5 "x".pdf', type: "text/html; x=1", bytes },
    });
    expect(raw).not.toContain("In-Reply-To:");
    expect(raw).not.toContain("References:");
    expect(header(raw, "Auto-Submitted")).toBe("Auto-Submitted: auto-generated");
    const tail = raw.slice(raw.indexOf("--ALT--"));
    const body = btoa(String.fromCharCode(...bytes))
      .match(/.{1,76}/g)!
      .join("\r\n");
    expect(tail).toBe(
      [
        "--ALT--",
        "--MIXED",
        "Content-Type: application/octet-stream; name*=UTF-8''Prix%20%E2%82%AC5%20%22x%22.pdf",
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment; filename*=UTF-8''Prix%20%E2%82%AC5%20%22x%22.pdf",
        "",
        body,
        "--MIXED--",
        "",
      ].join("\r\n"),
    );
    expect(raw).toContain(
      '\r\nContent-Type: multipart/mixed; boundary="MIXED"\r\n\r\n--MIXED\r\nContent-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\n',
    );
    const plain = written({ ...base, attachment: { name: "a b.txt", type: "Text/Plain", bytes } });
    expect(plain).toContain('Content-Type: Text/Plain; name="a b.txt"\r\n');
    expect(plain).toContain('Content-Disposition: attachment; filename="a b.txt"\r\n');
    expect(written({ ...base, attachment: { name: "\u0001", type: "x", bytes } })).toContain('; name="file"');
  });

  it("headers: one line each, names quoted or encoded, long values in 45-byte words never split inside a character", () => {
    const raw = written({
      ...base,
      from: { name: 'Ann "A" \\ B\r\nBcc: x@evil.example', address: "<sup port@acme.example>\n" },
      to: "ann@example.org\r\nBcc: y@evil.example",
      messageId: "<m1@acme.example>\r\nX-Evil: 1",
    });
    expect(header(raw, "From")).toBe('From: "Ann \\"A\\" \\\\ B Bcc: x@evil.example" <support@acme.example>');
    expect(header(raw, "To")).toBe("To: <ann@example.orgBcc:y@evil.example>");
    expect(header(raw, "Message-ID")).toBe("Message-ID: <m1@acme.example> X-Evil: 1");
    expect(
      raw
        .split("\r\n\r\n")[0]!
        .split("\r\n")
        .some((l) => l.startsWith("Bcc:") || l.startsWith("X-Evil:")),
    ).toBe(false);
    // 15 three-byte characters fill one 45-byte word exactly; the 16th starts the next.
    const euros = "€".repeat(16);
    const subject = header(written({ ...base, subject: euros }), "Subject")!;
    expect(subject).toBe(`Subject: =?UTF-8?B?${b64("€".repeat(15))}?=\n =?UTF-8?B?${b64("€")}?=`);
    // A four-byte character that would cross 45 bytes starts a new word.
    const mixed = `${"a".repeat(43)}😀b`;
    expect(header(written({ ...base, subject: mixed }), "Subject")).toBe(
      `Subject: =?UTF-8?B?${b64("a".repeat(43))}?=\n =?UTF-8?B?${b64("😀b")}?=`,
    );
    const named = written({ ...base, from: { name: "Zoë", address: "s@acme.example" } });
    expect(header(named, "From")).toBe(`From: =?UTF-8?B?${b64("Zoë")}?= <s@acme.example>`);
    expect(header(written({ ...base, from: { name: " ", address: "s@acme.example" } }), "From")).toBe(
      "From: <s@acme.example>",
    );
    expect(header(written({ ...base, subject: "  plain\tsubject  " }), "Subject")).toBe("Subject: plain subject");
  });

  it("a body's base64 comes in lines of 76", () => {
    const text = "x".repeat(300);
    const raw = written({ ...base, text });
    const encoded = b64(text);
    expect(raw).toContain(`\r\n\r\n${encoded.match(/.{1,76}/g)!.join("\r\n")}\r\n--ALT\r\n`);
  });
});

describe("subjects and reply addresses", () => {
  it("Re: once", () => {
    expect(replySubject("Your order")).toBe("Re: Your order");
    expect(replySubject("  re: Your order ")).toBe("re: Your order");
    expect(replySubject("RE:x")).toBe("RE:x");
    expect(replySubject("Are: you")).toBe("Re: Are: you");
    expect(replySubject("  ")).toBe("Re: ");
  });

  it("the token goes after the local part, replacing an earlier one", () => {
    expect(tokenAddress("support@acme.example", "tok")).toBe("support+tok@acme.example");
    expect(tokenAddress("support+old@acme.example", "tok")).toBe("support+tok@acme.example");
    expect(tokenAddress("a+b@c@acme.example", "tok")).toBe("a+tok@acme.example");
  });
});
