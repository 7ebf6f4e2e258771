/**
 * Which network a client address belongs to, as every per-IP limit counts
 * it: the Worker's rate limiting bindings, sign-in throttling and the
 * conversation's per-network message limit.
 */

/**
 * The network a client address stands for: an IPv4 address itself; an IPv6
 * address by its /64, the block one subscriber usually holds (counting
 * single IPv6 addresses would give one person 2^64 buckets).
 */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(":")) return ip;
  const [left = "", right] = ip.toLowerCase().split("%")[0]!.split("::");
  const head = left ? left.split(":") : [];
  const tail = right ? right.split(":") : [];
  const groups =
    right === undefined
      ? head
      : [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill("0"), ...tail];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(":")}::/64`;
}
