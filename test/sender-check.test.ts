/**
 * The sender check (worker/email/sender.ts) on its own: the authentication
 * header read as RFC 8601 writes it (comments that nest, quoted strings,
 * escapes, an ARC instance, versions, case), and each way a mail's sender is
 * verified or refused. test/email-sender.test.ts runs the same rules through
 * the real email() handler.
 */
import { describe, expect, it } from "vitest";
import { checkSender, parseAuthResults } from "../worker/email/sender";

const props = (value: string) => parseAuthResults(value).results.map((r) => [r.method, r.result, [...r.props]]);

describe("reading Authentication-Results", () => {
  it("the authserv-id and each method's result with its properties", () => {
    const read = parseAuthResults(
      "mx.cloudflare.net; spf=pass smtp.mailfrom=alice@example.org; dkim=pass header.d=Example.org header.s=k1; dmarc=pass header.from=example.org",
    );
    expect(read.authserv).toBe("mx.cloudflare.net");
    expect(
      props("mx.cloudflare.net; spf=pass smtp.mailfrom=Alice@Example.org; dkim=pass header.d=Example.org header.s=k1"),
    ).toEqual([
      ["spf", "pass", [["smtp.mailfrom", "alice@example.org"]]],
      [
        "dkim",
        "pass",
        [
          ["header.d", "example.org"],
          ["header.s", "k1"],
        ],
      ],
    ]);
    expect(read.results.map((r) => r.method)).toEqual(["spf", "dkim", "dmarc"]);
  });

  it("comments are left out, nested ones too, and an escaped parenthesis does not end one", () => {
    expect(
      props("mx.cloudflare.net (a (nested) comment); spf=pass (sender \\) IP (is) 192.0.2.1) smtp.mailfrom=a@b.org"),
    ).toEqual([["spf", "pass", [["smtp.mailfrom", "a@b.org"]]]]);
    // An unmatched ")" outside a comment is text; a "(" inside quotes starts no comment.
    expect(props('mx.cloudflare.net; dkim=pass header.d="b.org(x)" header.s=) k')).toEqual([
      [
        "dkim",
        "pass",
        [
          ["header.d", "b.org(x)"],
          ["header.s", ")"],
        ],
      ],
    ]);
    // Inside quotes an escaped quote does not end the string.
    expect(props('mx.cloudflare.net; dkim=pass header.b="a\\"(b" header.d=c.org')).toEqual([
      [
        "dkim",
        "pass",
        [
          ["header.b", 'a\\"(b'],
          ["header.d", "c.org"],
        ],
      ],
    ]);
  });

  it("what a comment holds never reads as a property: escapes, quotes and parentheses as RFC 5322 has them", () => {
    const only = [["spf", "pass", [["smtp.mailfrom", "a@b.org"]]]];
    // Properties inside a comment, nested or not, are no properties.
    expect(props("mx.cloudflare.net; spf=pass (a=b (c=d) e=f) smtp.mailfrom=a@b.org")).toEqual(only);
    // An escaped ")" inside a comment does not end it.
    expect(props("mx.cloudflare.net; spf=pass (x \\) y=z) smtp.mailfrom=a@b.org")).toEqual(only);
    // An escaped character inside a comment is left out with it.
    expect(props("mx.cloudflare.net; spf=pass smtp.mailfrom=a@b.org(\\x)")).toEqual(only);
    // A quote inside a comment begins no string: the comment ends at its ")".
    expect(props('mx.cloudflare.net; spf=pass (say "hi) smtp.mailfrom=a@b.org')).toEqual(only);
    // An unmatched ")" outside a comment is a character, and the comment count stays at none.
    expect(props("mx.cloudflare.net; spf=pass ) smtp.mailfrom=a@b.org")).toEqual(only);
    // Outside a comment or a string a backslash is a character: the "(" after it begins a comment.
    expect(props("mx.cloudflare.net; dkim=pass header.b=a\\(b header.d=c.org")).toEqual([
      ["dkim", "pass", [["header.b", "a\\"]]],
    ]);
  });

  it("the authserv-id: the first word, in lower case, after an ARC instance if there is one", () => {
    expect(parseAuthResults("MX.Cloudflare.NET 1; spf=pass").authserv).toBe("mx.cloudflare.net");
    expect(parseAuthResults("i=1; mx.cloudflare.net; spf=pass").authserv).toBe("mx.cloudflare.net");
    expect(parseAuthResults(" I = 12 ;\tmx.cloudflare.net;spf=pass").authserv).toBe("mx.cloudflare.net");
    // Not an instance: "i=1x" is the authserv-id's place.
    expect(parseAuthResults("i=1x; mx.cloudflare.net").authserv).toBe("i=1x");
    expect(parseAuthResults("a i=1; mx.cloudflare.net").authserv).toBe("a");
    expect(parseAuthResults("").authserv).toBe("");
  });

  it("a part without method=result is skipped; a property without a name or value is not one", () => {
    expect(props("mx.cloudflare.net; none; spf=; =pass; SPF=PASS\t  smtp.mailfrom=x@y.org  junk =z")).toEqual([
      ["spf", "pass", [["smtp.mailfrom", "x@y.org"]]],
    ]);
    expect(props('mx.cloudflare.net; dkim=pass header.d=""quoted"" header.i="@y.org"')).toEqual([
      [
        "dkim",
        "pass",
        [
          ["header.d", '"quoted"'],
          ["header.i", "@y.org"],
        ],
      ],
    ]);
  });

  it("only the first 8 KB of a header is read", () => {
    const padded = `mx.cloudflare.net; spf=pass smtp.mailfrom=a@b.org (${"x".repeat(9000)}); dmarc=pass header.from=b.org`;
    expect(parseAuthResults(padded).results.map((r) => r.method)).toEqual(["spf"]);
  });
});

const results = (value: string, key = "authentication-results") => [{ key, value }];

describe("checking the sender", () => {
  it("the envelope must be the From address or at its domain or a subdomain of it", () => {
    expect(checkSender([], "<Alice@Example.org>", "alice@example.org")).toEqual({ verified: true });
    expect(checkSender([], "bounce+1@example.org", "alice@example.org")).toEqual({ verified: true });
    expect(checkSender([], "b@mail.example.org", "alice@example.org")).toEqual({ verified: true });
    for (const env of ["b@evilexample.org", "b@example.org.evil", "b@org", "example.org", "<>", ""]) {
      const check = checkSender([], env, "alice@example.org");
      expect(check.verified, env).toBe(false);
    }
    // An address with no domain matches only itself: an empty domain is no domain.
    expect(checkSender([], "x@", "x@").verified).toBe(true);
    expect(checkSender([], "y@", "x@").verified).toBe(false);
    expect(checkSender([], "x@evil.example", "alice@example.org")).toEqual({
      verified: false,
      reason: "The envelope sender x@evil.example does not match the From address alice@example.org.",
    });
    expect(checkSender([], "  ", "alice@example.org")).toEqual({
      verified: false,
      reason:
        "The mail has no envelope sender (as a bounce has), so the From address alice@example.org cannot be checked.",
    });
  });

  it("our receiving server's results must vouch for this sender: DMARC, SPF or DKIM, each for the right domain", () => {
    const env = "bounce@mail.example.org";
    const from = "alice@example.org";
    const pass = (r: string) => checkSender(results(`mx.cloudflare.net; ${r}`), env, from).verified;
    expect(pass("dmarc=pass header.from=example.org"), "dmarc=pass header.from=example.org").toBe(true);
    expect(pass("dmarc=pass header.from=other.org"), "dmarc=pass header.from=other.org").toBe(false);
    expect(pass("dmarc=fail header.from=example.org"), "dmarc=fail header.from=example.org").toBe(false);
    expect(
      pass("spf=pass smtp.mailfrom=bounce@mail.example.org"),
      "spf=pass smtp.mailfrom=bounce@mail.example.org",
    ).toBe(true);
    expect(pass("spf=pass smtp.mailfrom=mail.example.org"), "spf=pass smtp.mailfrom=mail.example.org").toBe(true);
    expect(pass("spf=pass smtp.mailfrom=example.org"), "spf=pass smtp.mailfrom=example.org").toBe(false);
    expect(pass("spf=pass"), "spf=pass").toBe(false);
    expect(pass("dkim=pass header.d=example.org"), "dkim=pass header.d=example.org").toBe(true);
    // DKIM aligns relaxed, by organisation: a signing domain below the From domain, or above it, vouches.
    expect(pass("dkim=pass header.d=mail.example.org"), "a subdomain signs").toBe(true);
    expect(
      checkSender(
        results("mx.cloudflare.net; dkim=pass header.d=example.org"),
        "b@news.example.org",
        "a@news.example.org",
      ).verified,
      "a parent domain signs",
    ).toBe(true);
    expect(pass("dkim=pass header.d=org"), "dkim=pass header.d=org").toBe(false);
    expect(pass("dkim=pass"), "dkim=pass").toBe(false);
    expect(pass("dkim=pass header.d=other.org"), "dkim=pass header.d=other.org").toBe(false);
    expect(
      pass("dmarc=none header.from=example.org; spf=softfail smtp.mailfrom=bounce@mail.example.org"),
      "dmarc=none header.from=example.org; spf=softfail smtp.mailfrom=bounce@mail.example.org",
    ).toBe(false);
    // Each method vouches only by its own property: an SPF pass naming the From domain is no DMARC pass.
    expect(pass("spf=pass header.from=example.org"), "spf=pass header.from=example.org").toBe(false);
    expect(pass("dmarc=pass smtp.mailfrom=bounce@mail.example.org"), "dmarc by SPF's property").toBe(false);
    expect(pass("spf=pass header.d=example.org"), "spf by DKIM's property").toBe(false);
  });

  it("a refusal names what the server reported, six results at most", () => {
    const many = Array.from({ length: 8 }, (_, i) => `m${i}=fail`).join("; ");
    expect(checkSender(results(`mx.cloudflare.net; ${many}`), "a@example.org", "a@example.org")).toEqual({
      verified: false,
      reason:
        "The receiving server could not confirm that a@example.org sent this mail (m0=fail, m1=fail, m2=fail, m3=fail, m4=fail, m5=fail).",
    });
    expect(checkSender(results("mx.cloudflare.net"), "a@example.org", "a@example.org")).toEqual({
      verified: false,
      reason: "The receiving server could not confirm that a@example.org sent this mail (no results).",
    });
  });

  it("only the topmost authentication header counts, ARC's too, and only from our receiving server", () => {
    const env = "a@example.org";
    const from = "a@example.org";
    const fail = "mx.cloudflare.net; spf=fail smtp.mailfrom=a@example.org";
    expect(checkSender(results(fail), env, from).verified).toBe(false);
    expect(checkSender(results(`i=1; ${fail}`, "arc-authentication-results"), env, from).verified).toBe(false);
    // Another server's results say nothing (anyone can write them); a header further down is not read.
    expect(checkSender(results("mx.evil.example; spf=fail"), env, from).verified).toBe(true);
    expect(
      checkSender([{ key: "authentication-results", value: "mx.evil.example; spf=pass" }, ...results(fail)], env, from)
        .verified,
    ).toBe(true);
    expect(checkSender([{ key: "received", value: fail }], env, from).verified).toBe(true);
  });
});
