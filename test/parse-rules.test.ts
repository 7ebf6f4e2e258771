/**
 * The rules of worker/email/parse.ts, each called directly with an exact
 * input and its exact output: which mail is automatic (envelope, headers and
 * their values), where quoted history starts (each separator at its edge and
 * just past it, the trailing run of quoted lines), who the sender is and
 * which addresses can be answered (254 characters, each forbidden
 * character), the Message-ID made from the bytes, the parser's line and
 * `--` budget at its boundary, referenced Message-IDs (length, count,
 * duplicates), the reply address's token, the text shown and cut at 64 KiB,
 * the envelope the panel shows, and the words of every refusal.
 *
 * The same rules through the real `email()` handler are in
 * test/inbound-rules.test.ts, email.test.ts, email-linear.test.ts and
 * email-corpus.test.ts.
 */
import type { Email } from "postal-mime";
import { describe, expect, it } from "vitest";
import {
  fallbackMessageId,
  isAutomatic,
  MAIL_LINES,
  MAX_EMAIL_BYTES,
  mailMeta,
  mailText,
  overParseBudget,
  referencedIds,
  REFUSED,
  senderOf,
  tokenFromAddress,
  trimQuoted,
  type MailText,
} from "../worker/email/parse";

/** A parsed mail with only what a rule reads. */
const mail = (over: Partial<Email>): Email => ({ headers: [], attachments: [], ...over }) as Email;
const headers = (...lines: [string, string][]) => lines.map(([key, value]) => ({ key, value }));
const bytes = (s: string) => new TextEncoder().encode(s);

describe("the limits and the words of each refusal", () => {
  it("10 MiB of mail; 50,000 lines plus one per 32 bytes; 2,000 lines beginning with --", () => {
    expect(MAX_EMAIL_BYTES).toBe(10_485_760);
    expect(MAIL_LINES).toEqual({ free: 50_000, bytesPerLine: 32, maxDashLines: 2_000 });
  });

  it("every reason, word for word", () => {
    expect(REFUSED).toEqual({
      tooLarge: "Message too large: the limit is 10 MB",
      unparseable: "Message could not be parsed: malformed, too deeply nested, or headers too large",
      noSender: "Message has no usable sender address (From or envelope sender)",
      automatic:
        "Automatic mail (auto-reply, bounce or mailing list) is accepted only as a reply in an existing conversation",
      tooManyLines: "Message has too many lines for its size: the limit is 50,000 lines plus one for every 32 bytes",
      tooManyParts: 'Message has too many MIME parts: the limit is 2,000 lines beginning with "--"',
      unverifiedAutomatic:
        "Automatic mail (auto-reply, bounce or mailing list) is accepted only from a verified sender, as a reply in an existing conversation",
    });
  });
});

describe("isAutomatic", () => {
  const person = "alice@example.org";

  it("an empty, null or daemon envelope sender is automatic, trimmed and in any case; a person's is not", () => {
    for (const envelope of [
      "",
      "   ",
      "<>",
      " <> ",
      "mailer-daemon@example.org",
      " MAILER-DAEMON@Example.org ",
      "postmaster@example.org",
      "PostMaster@example.org",
    ]) {
      expect(isAutomatic([], envelope), JSON.stringify(envelope)).toBe(true);
    }
    for (const envelope of [
      person,
      "<alice@example.org>",
      "xmailer-daemon@example.org",
      "bounce@mailer-daemon.example.org",
      "not-postmaster@example.org",
      "daemon@postmaster.example.org",
      "mailer-daemon.example.org",
    ]) {
      expect(isAutomatic([], envelope), envelope).toBe(false);
    }
  });

  it("Auto-Submitted: any value but no (trimmed, any case) is automatic; an empty one is not", () => {
    for (const value of ["auto-replied", "auto-generated", "Auto-Notified", "yes"]) {
      expect(isAutomatic(headers(["auto-submitted", value]), person), value).toBe(true);
    }
    for (const value of ["no", "NO", " No ", "", "   "]) {
      expect(isAutomatic(headers(["auto-submitted", value]), person), JSON.stringify(value)).toBe(false);
    }
    // Only the header of that name (postal-mime writes names in lower case), and the first of them.
    expect(isAutomatic(headers(["subject", "auto-replied"]), person)).toBe(false);
    expect(isAutomatic(headers(["Auto-Submitted", "auto-replied"]), person)).toBe(false);
    expect(isAutomatic(headers(["auto-submitted", "no"], ["auto-submitted", "auto-replied"]), person)).toBe(false);
    expect(isAutomatic(headers(["subject", "Hi"], ["auto-submitted", "auto-replied"]), person)).toBe(true);
  });

  it("Precedence: bulk, list, junk and auto_reply are automatic, in any case; other values are not", () => {
    for (const value of ["bulk", "list", "junk", "auto_reply", " Bulk ", "LIST"]) {
      expect(isAutomatic(headers(["precedence", value]), person), value).toBe(true);
    }
    for (const value of ["", "first-class", "normal", "bulky", "auto-reply", "list junk"]) {
      expect(isAutomatic(headers(["precedence", value]), person), JSON.stringify(value)).toBe(false);
    }
  });

  it("List-Id, List-Unsubscribe, X-Autoreply and X-Autorespond make a mail automatic whatever their value", () => {
    for (const key of ["list-id", "list-unsubscribe", "x-autoreply", "x-autorespond"]) {
      for (const value of ["<news.example.org>", "no", ""]) {
        expect(isAutomatic(headers(["subject", "Hi"], [key, value]), person), `${key}: ${value}`).toBe(true);
      }
    }
    for (const key of ["list-post", "x-list", "x-auto", "list"]) {
      expect(isAutomatic(headers([key, "<news.example.org>"]), person), key).toBe(false);
    }
  });

  it("X-Auto-Response-Suppress only when it suppresses all, OOF or AutoReply (any case)", () => {
    for (const value of ["All", "OOF", "AutoReply", "DR, OOF", "dr, autoreply, rn"]) {
      expect(isAutomatic(headers(["x-auto-response-suppress", value]), person), value).toBe(true);
    }
    for (const value of ["", "DR", "DR, RN, NRN", "None", "RN, NDR"]) {
      expect(isAutomatic(headers(["x-auto-response-suppress", value]), person), JSON.stringify(value)).toBe(false);
    }
  });

  it("a person's mail with ordinary headers is not automatic", () => {
    expect(
      isAutomatic(
        headers(
          ["from", person],
          ["subject", "Bulk order: list attached"],
          ["auto-submitted", "no"],
          ["x-mailer", "x"],
        ),
        person,
      ),
    ).toBe(false);
  });
});

describe("trimQuoted", () => {
  /** Each [text, shown] pair, failing with the text. */
  const expectAll = (cases: [string, string][]) => {
    for (const [text, shown] of cases) expect(trimQuoted(text), JSON.stringify(text)).toBe(shown);
  };

  it("line ends: CR LF and a lone CR are LF; the result is trimmed", () => {
    expectAll([
      ["Hi\r\nthere", "Hi\nthere"],
      ["Hi\rthere", "Hi\nthere"],
      ["  Hi  \n\n", "Hi"],
      ["Hi\r\n\r\nOn Mon, Bob wrote:\r\n> old", "Hi"],
    ]);
  });

  it('"Original Message" between two or more dashes on each side, any case and spacing, alone on its line', () => {
    expectAll([
      ["Yes\n-----Original Message-----\nold", "Yes"],
      ["Yes\n--Original Message--\nold", "Yes"],
      ["Yes\n-- original message --\nold", "Yes"],
      ["Yes\n--  Original Message \t --\nold", "Yes"],
      ["Yes\n   -----Original Message-----   \nold", "Yes"],
      ["Yes\n-Original Message-\nold", "Yes\n-Original Message-\nold"],
      ["Yes\n--Original Message-\nold", "Yes\n--Original Message-\nold"],
      ["Yes\n-Original Message--\nold", "Yes\n-Original Message--\nold"],
      ["Yes\n-----Original Message----- below\nold", "Yes\n-----Original Message----- below\nold"],
      ["Yes\nsee -----Original Message-----\nold", "Yes\nsee -----Original Message-----\nold"],
      ["Yes\n--OriginalMessage--\nold", "Yes\n--OriginalMessage--\nold"],
    ]);
  });

  it("a line of five or more underscores and nothing else", () => {
    expectAll([
      ["Yes\n_____\nold", "Yes"],
      ["Yes\n________________________________\nold", "Yes"],
      ["Yes\n____\nold", "Yes\n____\nold"],
      ["Yes\n_____ x\nold", "Yes\n_____ x\nold"],
      ["Yes\nx _____\nold", "Yes\nx _____\nold"],
    ]);
  });

  it('"On … wrote:" on one line, or over two lines; a line only starting with On or only ending in wrote: is kept', () => {
    expectAll([
      ["Thanks!\n\nOn Tue, 2 Jan 2026, Bob <b@x.org> wrote:\n> old", "Thanks!"],
      ["Thanks\non tue, bob WROTE:\nold", "Thanks"],
      ["Thanks\nOn Tue, 2 Jan 2026, Bob <b@x.org>\nwrote:\n> old", "Thanks"],
      ["Thanks\nOn Tue, 2 Jan 2026 at 10:00, Bob\n<b@x.org> wrote:\nold", "Thanks"],
      ["Yes.\nOn the other hand, no.\nBye", "Yes.\nOn the other hand, no.\nBye"],
      ["Yes.\nI already wrote:\nthe details", "Yes.\nI already wrote:\nthe details"],
      ["Yes.\nOn Monday Bob wrote: see below\nold", "Yes.\nOn Monday Bob wrote: see below\nold"],
      ["Yes.\nSo On Monday Bob wrote:\nold", "Yes.\nSo On Monday Bob wrote:\nold"],
      ["Yes.\nSo On Monday\nBob wrote:\nold", "Yes.\nSo On Monday\nBob wrote:\nold"],
      ["Yes.\nOnwards, Bob wrote:\nold", "Yes.\nOnwards, Bob wrote:\nold"],
      // The next line completes only a line that itself begins with On.
      ["Bob\nwrote:\nold", "Bob\nwrote:\nold"],
      ["Yes.\nOn Monday\nBob wrote: later\nold", "Yes.\nOn Monday\nBob wrote: later\nold"],
      // The line before is never read as the next.
      ["wrote:\nOn Monday, Bob", "wrote:\nOn Monday, Bob"],
    ]);
  });

  it('a "From:" line followed by a "Sent:" or "Date:" line, each at the start of its line, any case', () => {
    expectAll([
      ["Sure\nFrom: Support <s@x.org>\nSent: Monday\nold", "Sure"],
      ["Sure\nfrom: s@x.org\ndate: Monday\nold", "Sure"],
      ["Sure\nFrom: s@x.org\nTo: Bob\nold", "Sure\nFrom: s@x.org\nTo: Bob\nold"],
      ["Sure\nFrom: s@x.org\nResent: Monday\nold", "Sure\nFrom: s@x.org\nResent: Monday\nold"],
      ["Sure\nFrom:s@x.org\nSent: Monday\nold", "Sure\nFrom:s@x.org\nSent: Monday\nold"],
      ["Sure\nFrom: s@x.org\nSent:Monday\nold", "Sure\nFrom: s@x.org\nSent:Monday\nold"],
      ["Sure\nSent: Monday\nold", "Sure\nSent: Monday\nold"],
      ["Sure\nMail From: s@x.org\nSent: Monday", "Sure\nMail From: s@x.org\nSent: Monday"],
      ["Sure\nFrom: s@x.org", "Sure\nFrom: s@x.org"],
    ]);
  });

  it("quoted lines are cut only in the run of quoted and blank lines that ends the text", () => {
    expectAll([
      ["Reply\n> q", "Reply"],
      ["Reply\n\n> q\n\n> r\n", "Reply"],
      ["Reply\n> q\n \t \n", "Reply"],
      ["Reply\n> q\n\n> r", "Reply"],
      // A quote answered below it is kept, and so is a quote followed by text.
      ["> q\nMy answer", "> q\nMy answer"],
      ["Intro\n> q\nAnswer\n> q2", "Intro\n> q\nAnswer"],
      ["Answer\n> q\nx > y", "Answer\n> q\nx > y"],
      ["Answer\n> q\nmore text", "Answer\n> q\nmore text"],
      // Only > at the very start of a line quotes.
      ["Answer\nx > y", "Answer\nx > y"],
    ]);
  });

  it("the first separator cuts; when nothing is left the whole text is kept, trimmed", () => {
    expectAll([
      ["A\n-----Original Message-----\nB\n_____\nC", "A"],
      ["A\n_____\nB\nOn Mon, Bob wrote:\nC", "A"],
      ["> only quote", "> only quote"],
      ["> a\n> b\n", "> a\n> b"],
      ["  \n-----Original Message-----\nold  ", "-----Original Message-----\nold"],
      ["Hi  \n\nOn Mon, B wrote:", "Hi"],
      ["", ""],
    ]);
  });
});

describe("senderOf", () => {
  const from = (name: string, address: string) => ({ name, address });

  it("the From mailbox, its address trimmed and in lower case, its name by the rule of every name", () => {
    expect(senderOf(mail({ from: from("Alice Example", " Alice@Example.ORG ") }), "env@example.net")).toEqual({
      name: "Alice Example",
      address: "alice@example.org",
    });
    expect(senderOf(mail({ from: from("  Alice\t\n Example\u0007 ", "a@example.org") }), "")).toEqual({
      name: "Alice Example",
      address: "a@example.org",
    });
    expect(senderOf(mail({ from: from("", "a@example.org") }), "")).toEqual({ name: "", address: "a@example.org" });
    expect(senderOf(mail({ from: from("   ", "a@example.org") }), "")).toEqual({ name: "", address: "a@example.org" });
    const long = "N".repeat(81);
    expect(senderOf(mail({ from: from(long, "a@example.org") }), "")).toEqual({
      name: "N".repeat(80),
      address: "a@example.org",
    });
  });

  it("the first member of a group; the envelope when the group is empty", () => {
    const group = { name: "Team", group: [from("Ann", "Ann@X.org"), from("Bob", "bob@y.org")] };
    expect(senderOf(mail({ from: group }), "env@example.net")).toEqual({ name: "Ann", address: "ann@x.org" });
    const nameless = { name: "Team", group: [{ address: "ann@x.org" } as { name: string; address: string }] };
    expect(senderOf(mail({ from: nameless }), "env@example.net")).toEqual({ name: "", address: "ann@x.org" });
    expect(senderOf(mail({ from: { name: "Team", group: [] } }), "Env@Example.net")).toEqual({
      name: "",
      address: "env@example.net",
    });
  });

  it("the envelope sender when From has no address that can be answered; a From with an address keeps its name", () => {
    expect(senderOf(mail({}), " Env@Example.NET ")).toEqual({ name: "", address: "env@example.net" });
    expect(senderOf(mail({ from: from("", "") }), "env@example.net")).toEqual({
      name: "",
      address: "env@example.net",
    });
    // `From: Customer Care` (a name, no address) as postal-mime reads it: no mailbox, so no name either.
    expect(senderOf(mail({ from: from("Customer Care", "") }), "env@example.net")).toEqual({
      name: "",
      address: "env@example.net",
    });
    expect(senderOf(mail({ from: from("Somebody", "somebody") }), "env@example.net")).toEqual({
      name: "Somebody",
      address: "env@example.net",
    });
    // From first, when both can be answered.
    expect(senderOf(mail({ from: from("", "a@example.org") }), "env@example.net")).toEqual({
      name: "",
      address: "a@example.org",
    });
  });

  it("null when neither can be answered", () => {
    expect(senderOf(mail({}), "")).toBeNull();
    expect(senderOf(mail({ from: from("Bob", "bob") }), "<>")).toBeNull();
  });

  it("an address can be answered: one @, a dot after something in the domain, no space or bracket, ≤ 254 characters", () => {
    const usable = (address: string) => senderOf(mail({}), address)?.address ?? null;
    for (const ok of ["a@b.c", "a.b+c-d_e@sub.example.co.uk", "x@b.c.d", "ünï@exämple.org", "a'b@c.d", "a!#$%&*@b.c"]) {
      expect(usable(ok), ok).toBe(ok);
    }
    const domain = "@example.org";
    expect(usable("a".repeat(254 - domain.length) + domain)).toBe("a".repeat(254 - domain.length) + domain);
    expect(usable("a".repeat(255 - domain.length) + domain)).toBeNull();
    for (const bad of ["a@b", "a@bcd", "@b.c", "a@.c", "a@b.", "a@", "ab.c", "a@b@c.d", "a b@c.d", "a@b.c d"]) {
      expect(usable(bad), bad).toBeNull();
    }
    for (const ch of [" ", "\t", "@", "<", ">", "(", ")", "[", "]", ",", ";", ":", '"']) {
      for (const bad of [`a${ch}b@c.d`, `ab@c${ch}d.e`, `ab@c.d${ch}e`]) expect(usable(bad), bad).toBeNull();
    }
  });
});

describe("fallbackMessageId", () => {
  it("the SHA-256 of the bytes in base64url, at microchat.invalid; the same bytes, the same id", async () => {
    // SHA-256("abc") = ba7816bf…f20015ad; its base64 has a +, a / and a trailing =.
    expect(await fallbackMessageId(bytes("abc"))).toBe(
      "<ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0@microchat.invalid>",
    );
    expect(await fallbackMessageId(bytes(""))).toBe("<47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU@microchat.invalid>");
  });
});

describe("overParseBudget", () => {
  const lines = (n: number, line = "\n") => bytes(line.repeat(n));

  it("50,000 lines plus one for every 32 bytes: 51,612 newlines are within it, 51,613 are over", () => {
    // 51,612 bytes allow 50,000 + floor(51,612 / 32) = 51,612 lines; 51,613 bytes allow the same.
    expect(overParseBudget(lines(51_612))).toBeNull();
    expect(overParseBudget(lines(51_613))).toBe(REFUSED.tooManyLines);
    // Longer lines earn their own: 100,000 lines of 31 bytes and a newline are 3,200,000 bytes, 150,000 allowed.
    expect(overParseBudget(lines(100_000, `${"x".repeat(31)}\n`))).toBeNull();
  });

  it("a last line without a newline is not counted; a mail without any is within the budget", () => {
    expect(overParseBudget(bytes("\n".repeat(51_612) + "x"))).toBeNull();
    expect(overParseBudget(bytes("no newline at all"))).toBeNull();
    expect(overParseBudget(new Uint8Array(0))).toBeNull();
  });

  it("2,000 lines beginning with -- are within it, 2,001 are over, the last one counted without its newline", () => {
    expect(overParseBudget(lines(2_000, "--\n"))).toBeNull();
    expect(overParseBudget(lines(2_001, "--\n"))).toBe(REFUSED.tooManyParts);
    expect(overParseBudget(lines(2_001, "--b\r\n"))).toBe(REFUSED.tooManyParts);
    expect(overParseBudget(bytes("--\n".repeat(2_000) + "--"))).toBe(REFUSED.tooManyParts);
    expect(overParseBudget(bytes("--\n".repeat(1_999) + "--"))).toBeNull();
  });

  it("only two dashes at the start of a line count", () => {
    for (const line of ["-x\n", "x--\n", " --\n", "-\n", "- -\n"]) {
      expect(overParseBudget(lines(3_000, line)), line).toBeNull();
    }
    expect(overParseBudget(bytes("x" + "--\n".repeat(2_000)))).toBeNull();
    expect(overParseBudget(bytes("x\n" + "--\n".repeat(2_001)))).toBe(REFUSED.tooManyParts);
  });
});

describe("referencedIds", () => {
  it("the ids of In-Reply-To, then References, each once, in order", () => {
    expect(referencedIds(mail({ inReplyTo: "<a@x>", references: "<b@x> <a@x>\r\n <c@x>" }))).toEqual([
      "<a@x>",
      "<b@x>",
      "<c@x>",
    ]);
    expect(referencedIds(mail({ inReplyTo: "<a@x>" }))).toEqual(["<a@x>"]);
    expect(referencedIds(mail({ references: "<b@x>" }))).toEqual(["<b@x>"]);
    expect(referencedIds(mail({ inReplyTo: "<a@x>", references: "<b@x>" }))).toEqual(["<a@x>", "<b@x>"]);
    expect(referencedIds(mail({}))).toEqual([]);
    expect(referencedIds(mail({ inReplyTo: "", references: "no ids here" }))).toEqual([]);
  });

  it("an id is 1 to 250 characters between < and >, without spaces or brackets", () => {
    const id250 = `<${"a".repeat(250)}>`;
    expect(referencedIds(mail({ references: id250 }))).toEqual([id250]);
    expect(referencedIds(mail({ references: `<${"a".repeat(251)}>` }))).toEqual([]);
    expect(referencedIds(mail({ references: "<x> <> <a b> <<c@x>> d@x" }))).toEqual(["<x>", "<c@x>"]);
    expect(referencedIds(mail({ references: "<a\tb> <a\nb>" }))).toEqual([]);
  });

  it("at most 50, the first ones", () => {
    const ids = Array.from({ length: 60 }, (_, i) => `<m${i}@x>`);
    expect(referencedIds(mail({ references: ids.slice(0, 50).join(" ") }))).toEqual(ids.slice(0, 50));
    expect(referencedIds(mail({ references: ids.join(" ") }))).toEqual(ids.slice(0, 50));
    // Duplicates do not count towards the 50.
    expect(referencedIds(mail({ inReplyTo: ids[0], references: ids.slice(0, 51).join(" ") }))).toEqual(
      ids.slice(0, 50),
    );
  });
});

describe("tokenFromAddress", () => {
  it("the 16 letters or digits after the + of the local part, in lower case", () => {
    expect(tokenFromAddress("support+abcdefghijklmnop@microchat.example")).toBe("abcdefghijklmnop");
    expect(tokenFromAddress(" Support+ABCDEFGH12345678@microchat.example ")).toBe("abcdefgh12345678");
    expect(tokenFromAddress("s+0123456789abcdef@x")).toBe("0123456789abcdef");
  });

  it("null for anything else", () => {
    for (const address of [
      "support@microchat.example",
      "support+abcdefghijklmno@microchat.example",
      "support+abcdefghijklmnopq@microchat.example",
      "support+abcdefgh-ijklmnop@microchat.example",
      "support+abcdefghijklmnop",
      "+abcdefghijklmnop@microchat.example",
      "a+b+abcdefghijklmnop@microchat.example",
      "x@y+abcdefghijklmnop@microchat.example",
      "support+abcdefghijklmnop.x@microchat.example",
      "",
    ]) {
      expect(tokenFromAddress(address), address).toBeNull();
    }
  });
});

describe("mailText", () => {
  it("the new part of the reply is shown, the whole text kept, both by the text rule", () => {
    expect(mailText({ text: "Thanks!\r\n\r\nOn Mon, Bob wrote:\r\n> old\r\n" })).toEqual({
      shown: "Thanks!",
      fullText: "Thanks!\n\nOn Mon, Bob wrote:\n> old",
      cut: [],
    });
    expect(mailText({ text: "  a\u0007b\u0000c  \n" })).toEqual({ shown: "abc", fullText: "abc", cut: [] });
    expect(mailText({})).toEqual({ shown: "", fullText: "", cut: [] });
  });

  it("the HTML's text only when the text shows nothing", () => {
    expect(mailText({ text: "plain", html: "<p>other</p>" })).toEqual({ shown: "plain", fullText: "plain", cut: [] });
    expect(mailText({ html: "<p>Fish &amp; chips</p><p>\u0007two</p>" })).toEqual({
      shown: "Fish & chips\ntwo",
      fullText: "",
      cut: [],
    });
    expect(mailText({ text: " \r\n\t", html: "<p>other</p>" })).toEqual({ shown: "other", fullText: "", cut: [] });
    expect(mailText({ text: "", html: "" })).toEqual({ shown: "", fullText: "", cut: [] });
  });

  it("64 KiB of text in full; one character more is cut, saying how much", () => {
    const max = "a".repeat(65_536);
    expect(mailText({ text: max })).toEqual({ shown: max, fullText: max, cut: [] });
    const over = mailText({ text: `${max}bc` });
    const kept = `${max}\n\n[… 2 more characters not shown]`;
    expect(over).toEqual({
      shown: kept,
      fullText: kept,
      cut: ["The text is 65,538 characters long; the first 65,536 are shown."],
    });
  });

  it("a cut never splits a character: an emoji across the 64 KiB line goes whole to what is not shown", () => {
    const before = "a".repeat(65_535);
    const over = mailText({ text: `${before}😀b` });
    expect(over.shown).toBe(`${before}\n\n[… 3 more characters not shown]`);
    expect(over.cut).toEqual(["The text is 65,538 characters long; the first 65,535 are shown."]);
    // Ending exactly after the pair: kept whole.
    const fits = mailText({ text: `${"a".repeat(65_534)}😀b` });
    expect(fits.shown).toBe(`${"a".repeat(65_534)}😀\n\n[… 1 more characters not shown]`);
  });

  it.each([
    ["U+D800, the first high surrogate", 0xd800, 65_535],
    ["U+DBFF, the last high surrogate", 0xdbff, 65_535],
    ["U+D7FF, just below them", 0xd7ff, 65_536],
    ["U+DC00, a low surrogate", 0xdc00, 65_536],
  ])("at the 64 KiB line, %s ends the kept text before it or not", (_name, code, kept) => {
    const before = "a".repeat(65_535);
    const over = mailText({ text: `${before}${String.fromCharCode(code)}${String.fromCharCode(0xdc00)}b` });
    expect(over.cut).toEqual([`The text is 65,538 characters long; the first ${kept.toLocaleString("en")} are shown.`]);
  });

  it("the HTML's text is cut at 64 KiB too, and what the HTML reader left out is said first", () => {
    const max = "x".repeat(65_536);
    expect(mailText({ html: `<p>${max}</p>` })).toEqual({ shown: max, fullText: "", cut: [] });
    expect(mailText({ html: `<p>${max}y</p>` })).toEqual({
      shown: `${max}\n\n[… 1 more characters not shown]`,
      fullText: "",
      cut: ["The text of the HTML is 65,537 characters long; the first 65,536 are shown."],
    });
    const long = `<p>hi</p>${"<!-- x -->".repeat(110_000)}`;
    expect(mailText({ html: long })).toEqual({
      shown: "hi",
      fullText: "",
      cut: ["The HTML is 1,100,009 characters long; the first 1,048,576 are shown."],
    });
  });
});

describe("mailMeta", () => {
  const sender = { name: "Ann", address: "ann@example.org" };
  const plain: MailText = { shown: "Hi", fullText: "Hi", cut: [] };
  const meta = (email: Pick<Email, "subject" | "html">, text = plain, automatic = false) =>
    mailMeta(email, sender, "support@microchat.example", "<m1@example.org>", text, automatic);

  it("subject, sender, recipient and Message-ID; nothing else for a plain mail", () => {
    const m = meta({ subject: "Where is my order?" });
    expect(m).toStrictEqual({
      subject: "Where is my order?",
      from: { name: "Ann", address: "ann@example.org" },
      to: "support@microchat.example",
      messageId: "<m1@example.org>",
    });
    expect(m.from).not.toBe(sender);
  });

  it("the subject by the text rule without trimming, at most 300 characters, or (no subject)", () => {
    const subject = (s: string | undefined) => meta({ subject: s }).subject;
    expect(subject(undefined)).toBe("(no subject)");
    expect(subject("")).toBe("(no subject)");
    expect(subject("\u0007\u0000")).toBe("(no subject)");
    expect(subject("  Re:\u0007 a\r\nb  ")).toBe("  Re: a\nb  ");
    expect(subject("s".repeat(300))).toBe("s".repeat(300));
    expect(subject("s".repeat(301))).toBe("s".repeat(300));
  });

  it("sanitised HTML when the mail has HTML; the full text when trimming hid some; auto for automatic mail", () => {
    expect(
      meta({ subject: "s", html: '<p onclick="x()">Hi <b>there</b></p><script>bad()</script>' }, plain, true),
    ).toStrictEqual({
      subject: "s",
      from: sender,
      to: "support@microchat.example",
      messageId: "<m1@example.org>",
      html: "<p>Hi <b>there</b></p>",
      auto: true,
    });
    expect(meta({ subject: "s", html: "" })).toStrictEqual(meta({ subject: "s" }));
    const trimmed: MailText = { shown: "Thanks", fullText: "Thanks\n> old", cut: [] };
    expect(meta({ subject: "s" }, trimmed)).toStrictEqual({
      subject: "s",
      from: sender,
      to: "support@microchat.example",
      messageId: "<m1@example.org>",
      fullText: "Thanks\n> old",
    });
  });

  it("what was cut, the text's first, each said once; the text's list is not changed", () => {
    const text: MailText = { shown: "hi", fullText: "", cut: ["The text is long."] };
    expect(meta({ subject: "s" }, text).cut).toEqual(["The text is long."]);
    const long = `<p>hi</p>${"<!-- x -->".repeat(110_000)}`;
    const said = "The HTML is 1,100,009 characters long; the first 1,048,576 are shown.";
    // The text of the HTML and the HTML itself are read by the same bound: said once.
    expect(meta({ subject: "s", html: long }, mailText({ html: long })).cut).toEqual([said]);
    expect(meta({ subject: "s", html: long }, text).cut).toEqual(["The text is long.", said]);
    expect(text.cut).toEqual(["The text is long."]);
  });
});
