/**
 * Where a webhook may point: a public HTTPS address, and nothing else.
 *
 * An admin's webhook makes Microchat send requests on their behalf, so an
 * endpoint must not turn it into a probe of networks it can see and the admin
 * cannot (server-side request forgery). The rule is applied twice: when the
 * endpoint is registered (refused with a reason) and again before every
 * delivery, because an endpoint stored by an older version was never checked.
 *
 * What is refused:
 *   - any scheme but https, and a user name or password in the URL;
 *   - ports other than the HTTPS ports Cloudflare proxies (443, 2053, 2083,
 *     2087, 2096, 8443): a webhook has no reason to knock on port 22 or 6379;
 *   - IPv4 literals in loopback, private, shared (CGNAT), link-local (cloud
 *     metadata at 169.254.169.254), "this network", benchmarking, documentation,
 *     multicast and reserved ranges; the URL parser has already turned
 *     `0x7f.1`, `2130706433` and `0177.0.0.1` into 127.0.0.1;
 *   - IPv6 literals outside global unicast 2000::/3 (so ::1, ::, fc00::/7,
 *     fe80::/10, multicast, IPv4-mapped ::ffff:0:0/96 and NAT64 64:ff9b::/96),
 *     documentation 2001:db8::/32, Teredo 2001::/32, and 6to4 2002::/16 around
 *     a refused IPv4 address;
 *   - names that only mean something inside a network: single labels
 *     (`intranet`), `localhost` and `*.localhost`, `*.local`, `*.internal`,
 *     `*.localdomain`, `*.home.arpa` and other `*.arpa`, `*.lan`, `*.home`,
 *     `*.corp`, `*.intranet`, `*.private`.
 *
 * What this cannot see: where a public name resolves. A Worker cannot resolve
 * DNS itself, so `attacker.example` pointing at 10.0.0.1 passes this check.
 * That is safe on Cloudflare because a Worker's `fetch` goes out through
 * Cloudflare's network to the public internet: it cannot reach the private
 * network of the machine or the account running it (there is none to reach),
 * and Cloudflare refuses subrequests to private and reserved addresses. A
 * self-hosted runtime (workerd on your own server) has no such boundary: put
 * it behind an egress firewall.
 */

/** The HTTPS ports a webhook may use (Cloudflare's proxied HTTPS ports). */
export const WEBHOOK_PORTS: readonly number[] = [443, 2053, 2083, 2087, 2096, 8443];

/** Names (and name endings) that only mean something inside one network. */
const INTERNAL_NAMES = [
  "localhost",
  "local",
  "internal",
  "localdomain",
  "arpa",
  "lan",
  "home",
  "corp",
  "intranet",
  "private",
];

/** IPv4 ranges that are not the public internet, as [first octets, prefix length]. */
const REFUSED_V4: readonly [number[], number][] = [
  [[0], 8], // "this network"
  [[10], 8], // private
  [[100, 64], 10], // shared address space (carrier-grade NAT)
  [[127], 8], // loopback
  [[169, 254], 16], // link-local, cloud metadata services
  [[172, 16], 12], // private
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2], 24], // documentation
  [[192, 88, 99], 24], // 6to4 relay anycast
  [[192, 168], 16], // private
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24], // documentation
  [[203, 0, 113], 24], // documentation
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
];

function v4Number(octets: readonly number[]): number {
  return octets.reduce((n, o) => n * 256 + o, 0);
}

/** The four octets of a dotted-quad IPv4 address, or null. */
export function parseV4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function v4Refused(octets: readonly number[]): boolean {
  const n = v4Number(octets);
  return REFUSED_V4.some(([start, bits]) => {
    const base = v4Number([...start, 0, 0, 0].slice(0, 4));
    const size = 2 ** (32 - bits);
    return n >= base && n < base + size;
  });
}

/** The eight 16-bit groups of an IPv6 address (`::` and a dotted IPv4 tail allowed), or null. */
export function parseV6(host: string): number[] | null {
  let text = host.toLowerCase();
  const tail = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (tail) {
    const v4 = parseV4(tail[1]!);
    if (!v4) return null;
    text = `${text.slice(0, tail.index + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => parseInt(g, 16));
}

function v6Refused(g: readonly number[]): boolean {
  if ((g[0]! & 0xe000) !== 0x2000) return true; // outside global unicast 2000::/3
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  if (g[0] === 0x2001 && g[1] === 0) return true; // Teredo
  if (g[0] === 0x2002) return v4Refused([g[1]! >> 8, g[1]! & 0xff, g[2]! >> 8, g[2]! & 0xff]); // 6to4
  return false;
}

function internalName(host: string): boolean {
  if (!host.includes(".")) return true; // a single label, `localhost` among them
  return INTERNAL_NAMES.some((n) => host.endsWith(`.${n}`));
}

/**
 * Why `raw` cannot be a webhook endpoint, in words an admin can act on; null
 * when it is a public HTTPS address as far as can be told without resolving it.
 */
export function webhookTargetProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "The webhook URL is not a valid URL";
  }
  if (url.protocol !== "https:") return "The webhook URL must start with https://";
  if (url.username !== "" || url.password !== "")
    return "The webhook URL must not contain a user name or password; authenticate with the signature instead";
  const port = url.port === "" ? 443 : Number(url.port);
  if (!WEBHOOK_PORTS.includes(port))
    return `Port ${port} is not allowed for webhooks; use 443 (or ${WEBHOOK_PORTS.slice(1).join(", ")})`;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const refusedAddress = `The webhook URL points at a loopback, private, link-local or reserved address (${host}); use a public address`;
  if (host.startsWith("[")) {
    const groups = parseV6(host.slice(1, -1));
    return groups === null || v6Refused(groups) ? refusedAddress : null;
  }
  const v4 = parseV4(host);
  if (v4) return v4Refused(v4) ? refusedAddress : null;
  if (internalName(host))
    return `The webhook URL names a host that is only reachable inside a network (${host}); use a public host name`;
  return null;
}
