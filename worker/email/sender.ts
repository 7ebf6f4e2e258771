/**
 * Whether a mail's sender is who its From header says.
 *
 * The From header is written by the sender and proves nothing; a mail with
 * `From: alice@example.org` sent from anywhere must not land in Alice's
 * thread as Alice. Two facts come from outside the message's own text:
 *
 *  - the envelope sender (SMTP `MAIL FROM`, `message.from`), which the
 *    sending server gives and SPF checks. It must ALIGN with the From
 *    address: the same address, or an address at the same domain or at a
 *    subdomain of it, so a bounce address like `bounces+123@example.org` or
 *    `bounce@mail.example.org` aligns with `alice@example.org`. (No public
 *    suffix list: only a parent/child relation of the two domains counts, so
 *    `evil.co.uk` never aligns with `victim.co.uk`.) An empty envelope (a
 *    bounce's `<>`) aligns with nothing.
 *  - the authentication results our receiving server wrote: the topmost
 *    `Authentication-Results` or `ARC-Authentication-Results` header, used
 *    only when its authserv-id is `mx.cloudflare.net` (Email Routing). When
 *    present, it must report a pass that vouches for this sender: DMARC pass
 *    for the From domain, SPF pass for the envelope's domain, or a DKIM
 *    signature that passed for the From domain's organisation.
 *
 * Verified = aligned AND (no results from our server OR one of those passes).
 * Results can only take verification away, never grant it to a mail whose
 * envelope does not align: a sender can write any header, and we cannot
 * tell a header our server added from one forged below it if the server
 * added none. A mail that is not verified opens a conversation of its own,
 * marked with the reason, and is never threaded into another (email-threads.ts).
 */
/** A mail's headers as postal-mime gives them: names in lower case, topmost first. */
type Headers = readonly { key: string; value: string }[];

/** The receiving servers whose authentication results we read (Cloudflare Email Routing). */
const TRUSTED_AUTHSERV = new Set(["mx.cloudflare.net"]);
/** Longest authentication header read; real ones are well under 2 KB. */
const MAX_RESULTS_CHARS = 8 * 1024;

/** The verdict on a mail's sender: verified, or the reason it is not, in words. */
export type SenderCheck = { verified: true } | { verified: false; reason: string };

const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

/** `a` is `b`, or a subdomain of it. */
const within = (a: string, b: string) => a !== "" && b !== "" && (a === b || a.endsWith(`.${b}`));

/** One method's result from an authentication header: `spf=pass smtp.mailfrom=…`. */
interface AuthResult {
  method: string;
  result: string;
  props: Map<string, string>;
}

/** The header value without its (comments), which may nest; one pass over it. */
function withoutComments(value: string): string {
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === "\\" && (depth > 0 || quoted)) {
      if (depth === 0) out += value.slice(i, i + 2);
      i++;
    } else if (ch === '"' && depth === 0) {
      quoted = !quoted;
      out += ch;
    } else if (ch === "(" && !quoted) depth++;
    else if (ch === ")" && !quoted && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

/** The authserv-id and results of an `Authentication-Results` (or ARC-) header value (RFC 8601). */
export function parseAuthResults(value: string): { authserv: string; results: AuthResult[] } {
  const parts = withoutComments(value.slice(0, MAX_RESULTS_CHARS)).split(";");
  // ARC-Authentication-Results starts with the instance, "i=1".
  if (/^\s*i\s*=\s*\d+\s*$/i.test(parts[0] ?? "")) parts.shift();
  const authserv = (parts.shift() ?? "").trim().split(/\s+/)[0]!.toLowerCase();
  const results: AuthResult[] = [];
  for (const part of parts) {
    const words = part.trim().split(/\s+/);
    const [method, result] = (words.shift() ?? "").toLowerCase().split("=");
    if (!method || !result) continue;
    const props = new Map<string, string>();
    for (const word of words) {
      const eq = word.indexOf("=");
      if (eq > 0)
        props.set(
          word.slice(0, eq).toLowerCase(),
          word
            .slice(eq + 1)
            .replace(/^"|"$/g, "")
            .toLowerCase(),
        );
    }
    results.push({ method, result, props });
  }
  return { authserv, results };
}

/** The results our receiving server wrote, if the topmost authentication header is its own. */
function trustedResults(headers: Headers): AuthResult[] | null {
  const top = headers.find((h) => h.key === "authentication-results" || h.key === "arc-authentication-results");
  if (!top) return null;
  const parsed = parseAuthResults(top.value);
  return TRUSTED_AUTHSERV.has(parsed.authserv) ? parsed.results : null;
}

/**
 * Checks the sender of a mail: `envelope` is `message.from`, `from` the
 * address the mail is attributed to (senderOf). See the file's header.
 */
export function checkSender(headers: Headers, envelope: string, from: string): SenderCheck {
  const env = envelope.trim().toLowerCase().replace(/^<|>$/g, "");
  const fromDomain = domainOf(from);
  const aligned = env !== "" && env.includes("@") && (env === from || within(domainOf(env), fromDomain));
  if (!aligned) {
    return {
      verified: false,
      reason: env
        ? `The envelope sender ${env} does not match the From address ${from}.`
        : `The mail has no envelope sender (as a bounce has), so the From address ${from} cannot be checked.`,
    };
  }
  const results = trustedResults(headers);
  if (!results) return { verified: true };
  const passed = (method: string, vouches: (props: Map<string, string>) => boolean) =>
    results.some((r) => r.method === method && r.result === "pass" && vouches(r.props));
  const envDomain = domainOf(env);
  if (
    passed("dmarc", (p) => p.get("header.from") === fromDomain) ||
    passed("spf", (p) => {
      const checked = p.get("smtp.mailfrom") ?? "";
      return (checked.includes("@") ? domainOf(checked) : checked) === envDomain;
    }) ||
    passed("dkim", (p) => {
      const d = p.get("header.d") ?? "";
      return d.includes(".") && (within(fromDomain, d) || within(d, fromDomain));
    })
  ) {
    return { verified: true };
  }
  const summary =
    results
      .slice(0, 6)
      .map((r) => `${r.method}=${r.result}`)
      .join(", ") || "no results";
  return {
    verified: false,
    reason: `The receiving server could not confirm that ${from} sent this mail (${summary}).`,
  };
}
