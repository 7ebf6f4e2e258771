/**
 * Sign-in throttling. Failed sign-ins are counted per account (the email as
 * typed, whether or not an operator has it) and per network (the caller's
 * IP, an IPv6 address by its /64), in SQLite, so neither a restart nor an
 * eviction forgets them. After a number of failures in a row a key is
 * locked for a window that doubles with every further failure; while any
 * key of an attempt is locked, the attempt is refused before a password is
 * looked at.
 *
 * Why the attempt is counted as failed when it starts (and taken back when
 * the password was right): the Worker checks the password between two calls
 * to this object, so counting only after a wrong password would let a burst
 * of parallel guesses all pass the check before the first failure lands.
 *
 * Why unknown accounts are counted exactly like known ones: the answers
 * (401, then 429 with the same wait) and their timing must not tell an
 * attacker which emails have an account. A locked attempt costs no password
 * hash at all, for a known account or not.
 */
import type { WorkspaceContext } from "./context";

/** When a key locks and for how long. */
interface Policy {
  /** Failures in a row allowed before the first lock. */
  free: number;
  /** The first lock; each further failure doubles it. */
  baseMs: number;
  /** The longest lock. */
  maxMs: number;
}

/** Per account: 5 tries, then 30 s, 1 min, 2 min, … up to 15 min between tries. */
const ACCOUNT_POLICY: Policy = { free: 5, baseMs: 30_000, maxMs: 15 * 60_000 };
/** Per network: 20 tries (an office shares one address), then the same backoff. */
const NETWORK_POLICY: Policy = { free: 20, baseMs: 30_000, maxMs: 15 * 60_000 };
/** Failures older than this are forgotten (a lock never lasts this long). */
const FORGET_AFTER_MS = 24 * 3600_000;
/** At most this many keys are kept; beyond it the stalest go first, so random emails cannot fill storage. */
const MAX_KEYS = 50_000;

/** An attempt's keys: the account, and the network when known. */
export interface LoginKeys {
  email: string;
  network: string | null;
}

/** The answer to a sign-in attempt starting. */
export interface LoginGate {
  /** >0: refused; try again after this many ms (nothing was counted). */
  waitMs: number;
  /** If the password turns out wrong, how long the lock this attempt starts lasts (0: none yet). */
  waitIfWrongMs: number;
}

/** How long a key with `failures` in a row, the last at `lastAt`, stays locked after `now` (0: not locked). */
function lockLeft(policy: Policy, failures: number, lastAt: number, now: number): number {
  if (failures < policy.free) return 0;
  const lock = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - policy.free, 30));
  return Math.max(0, lastAt + lock - now);
}

/** The login_failures table. */
export class LoginThrottle {
  constructor(private readonly w: WorkspaceContext) {}

  private keys({ email, network }: LoginKeys): { key: string; policy: Policy }[] {
    const keys = [{ key: `account:${email.trim().toLowerCase().slice(0, 320)}`, policy: ACCOUNT_POLICY }];
    if (network) keys.push({ key: `network:${network}`, policy: NETWORK_POLICY });
    return keys;
  }

  /** Failures in a row of `key` (0 once forgotten) and when the last one was. */
  private read(key: string, now: number): { failures: number; lastAt: number } {
    const row = this.w.sql
      .exec<{ failures: number; last_at: number }>("SELECT failures, last_at FROM login_failures WHERE key = ?", key)
      .toArray()[0];
    if (!row || now - row.last_at > FORGET_AFTER_MS) return { failures: 0, lastAt: 0 };
    return { failures: row.failures, lastAt: row.last_at };
  }

  /**
   * A sign-in starts: refused while any of its keys is locked; otherwise
   * counted as a failure of each key until `succeeded` takes it back.
   */
  begin(keys: LoginKeys, now = Date.now()): LoginGate {
    const entries = this.keys(keys).map((k) => ({ ...k, ...this.read(k.key, now) }));
    const waitMs = Math.max(...entries.map((e) => lockLeft(e.policy, e.failures, e.lastAt, now)));
    if (waitMs > 0) return { waitMs, waitIfWrongMs: waitMs };
    this.w.ctx.storage.transactionSync(() => {
      this.prune(now);
      for (const e of entries) {
        this.w.sql.exec(
          `INSERT INTO login_failures (key, failures, last_at) VALUES (?, ?, ?)
           ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at`,
          e.key,
          e.failures + 1,
          now,
        );
      }
    });
    const waitIfWrongMs = Math.max(...entries.map((e) => lockLeft(e.policy, e.failures + 1, now, now)));
    return { waitMs: 0, waitIfWrongMs };
  }

  /** The password was right: the account starts over; the network takes back this one attempt. */
  succeeded(keys: LoginKeys): void {
    const [account, network] = this.keys(keys);
    this.w.sql.exec("DELETE FROM login_failures WHERE key = ?", account!.key);
    if (network) {
      this.w.sql.exec("UPDATE login_failures SET failures = MAX(0, failures - 1) WHERE key = ?", network.key);
    }
  }

  /** Drops forgotten keys, and the stalest beyond MAX_KEYS. */
  private prune(now: number): void {
    this.w.sql.exec("DELETE FROM login_failures WHERE last_at < ?", now - FORGET_AFTER_MS);
    const excess = this.w.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM login_failures").one().n - MAX_KEYS + 1;
    if (excess > 0) {
      this.w.sql.exec(
        "DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures ORDER BY last_at LIMIT ?)",
        excess,
      );
    }
  }
}
