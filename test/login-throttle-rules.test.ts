/**
 * The sign-in throttle's arithmetic, called on the module directly over a
 * fresh workspace object's real storage, with the clock passed in: when an
 * account and a network lock, for how long, what a right password takes
 * back, and what is forgotten. (`login-throttle.test.ts` drives the same
 * rules through the sign-in route.)
 */
import { describe, expect, it } from "vitest";
import { LoginThrottle } from "../worker/workspace/login-throttle";
import { inFreshWorkspace } from "./helpers";

const T0 = 1_700_000_000_000;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 3600 * SECOND;

/** Runs `fn` with a throttle over a new workspace object's storage (and that storage's SQL). */
function withThrottle<T>(fn: (t: LoginThrottle, sql: SqlStorage) => T): Promise<T> {
  return inFreshWorkspace("throttle", (w) => fn(new LoginThrottle(w), w.sql));
}

const ada = { email: "ada@example.com", network: null };

describe("an account", () => {
  it("has 5 free tries, then locks for 30 s, doubling with each further failure up to 15 minutes", async () => {
    const seen = await withThrottle((t) => {
      const gates = [];
      let now = T0;
      for (let i = 0; i < 5; i++) gates.push(t.begin(ada, now));
      // Locked: refused, and nothing counted.
      const refused = [t.begin(ada, now), t.begin(ada, now + 30 * SECOND - 1)];
      // Each lock waited out, the next failure doubles it, up to the cap.
      const locks = [];
      now += 30 * SECOND;
      for (let i = 0; i < 7; i++) {
        const gate = t.begin(ada, now);
        locks.push(gate);
        now += gate.waitIfWrongMs;
      }
      return { gates, refused, locks };
    });
    expect(seen.gates.map((g) => g.waitMs)).toEqual([0, 0, 0, 0, 0]);
    expect(seen.gates.map((g) => g.waitIfWrongMs)).toEqual([0, 0, 0, 0, 30 * SECOND]);
    expect(seen.refused).toEqual([
      { waitMs: 30 * SECOND, waitIfWrongMs: 30 * SECOND },
      { waitMs: 1, waitIfWrongMs: 1 },
    ]);
    expect(seen.locks.map((g) => g.waitMs)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(seen.locks.map((g) => g.waitIfWrongMs / SECOND)).toEqual([60, 120, 240, 480, 900, 900, 900]);
  });

  it("is one key however its email is typed, up to 320 characters", async () => {
    const long = `${"a".repeat(320)}`;
    const seen = await withThrottle((t) => {
      for (let i = 0; i < 5; i++)
        t.begin({ email: ["Ada@Example.com", " ada@example.com ", "ADA@EXAMPLE.COM"][i % 3]!, network: null }, T0);
      const same = t.begin(ada, T0);
      for (let i = 0; i < 5; i++) t.begin({ email: `${long}x`, network: null }, T0);
      const truncated = t.begin({ email: `${long}y`, network: null }, T0);
      const other = t.begin({ email: "bob@example.com", network: null }, T0);
      return { same, truncated, other };
    });
    expect(seen.same.waitMs).toBe(30 * SECOND);
    expect(seen.truncated.waitMs, "the same first 320 characters").toBe(30 * SECOND);
    expect(seen.other).toEqual({ waitMs: 0, waitIfWrongMs: 0 });
  });

  it("starts over after a right password", async () => {
    const seen = await withThrottle((t) => {
      for (let i = 0; i < 4; i++) t.begin(ada, T0);
      t.succeeded(ada);
      return [1, 2, 3, 4, 5].map(() => t.begin(ada, T0).waitIfWrongMs);
    });
    expect(seen, "five free tries again").toEqual([0, 0, 0, 0, 30 * SECOND]);
  });

  it("forgets failures a day old, not sooner", async () => {
    const seen = await withThrottle((t) => {
      for (let i = 0; i < 5; i++) t.begin(ada, T0);
      const dayLater = t.begin(ada, T0 + DAY);
      const bob = { email: "bob@example.com", network: null };
      for (let i = 0; i < 5; i++) t.begin(bob, T0);
      const bobLater = t.begin(bob, T0 + DAY + 1);
      return { dayLater, bobLater };
    });
    expect(seen.dayLater, "exactly a day later: still counted (the sixth failure)").toEqual({
      waitMs: 0,
      waitIfWrongMs: 60 * SECOND,
    });
    expect(seen.bobLater, "past a day: forgotten, a first failure").toEqual({ waitMs: 0, waitIfWrongMs: 0 });
  });
});

describe("a network", () => {
  it("has 20 free tries across accounts, then locks every account tried from it; a right password takes back one", async () => {
    const seen = await withThrottle((t) => {
      const net = (email: string) => ({ email, network: "203.0.113.0" });
      const tries = Array.from({ length: 20 }, (_, i) => t.begin(net(`user${i}@example.com`), T0));
      const locked = t.begin(net("fresh@example.com"), T0 + 10 * SECOND);
      const elsewhere = t.begin({ email: "fresh@example.com", network: "198.51.100.0" }, T0 + 10 * SECOND);
      t.succeeded(net("user0@example.com"));
      const afterRight = t.begin(net("fresh2@example.com"), T0 + 10 * SECOND);
      return { tries, locked, elsewhere, afterRight };
    });
    expect(seen.tries.map((g) => g.waitMs)).toEqual(Array(20).fill(0));
    expect(seen.tries.at(-1)!.waitIfWrongMs, "the 20th failure starts the lock").toBe(30 * SECOND);
    expect(seen.locked).toEqual({ waitMs: 20 * SECOND, waitIfWrongMs: 20 * SECOND });
    expect(seen.elsewhere).toEqual({ waitMs: 0, waitIfWrongMs: 0 });
    expect(seen.afterRight.waitMs, "19 failures left: one more try").toBe(0);
    expect(seen.afterRight.waitIfWrongMs).toBe(30 * SECOND);
  });
});

describe("storage", () => {
  it("drops day-old keys and keeps at most 50,000, the stalest going first", async () => {
    const seen = await withThrottle((t, sql) => {
      t.begin({ email: "old@example.com", network: null }, T0);
      for (let i = 0; i < 49_999; i++)
        sql.exec(
          "INSERT INTO login_failures (key, failures, last_at) VALUES (?, 1, ?)",
          `account:filler${i}@example.com`,
          T0 + DAY + i,
        );
      const count = () => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM login_failures").one().n;
      const has = (key: string) => sql.exec("SELECT 1 FROM login_failures WHERE key = ?", key).toArray().length > 0;
      const before = count();
      // A day and more after the first: it is dropped as stale, then the stalest filler to make room.
      t.begin({ email: "new@example.com", network: null }, T0 + DAY + MINUTE);
      const afterOne = { n: count(), old: has("account:old@example.com") };
      t.begin({ email: "newer@example.com", network: null }, T0 + DAY + MINUTE);
      return {
        before,
        afterOne,
        afterTwo: count(),
        stalest: has("account:filler0@example.com"),
        next: has("account:filler1@example.com"),
        newest: has("account:newer@example.com"),
      };
    });
    expect(seen.before).toBe(50_000);
    expect(seen.afterOne).toEqual({ n: 50_000, old: false });
    expect(seen.afterTwo).toBe(50_000);
    expect(seen.stalest, "the stalest key made room").toBe(false);
    expect(seen.next).toBe(true);
    expect(seen.newest).toBe(true);
  });
});
