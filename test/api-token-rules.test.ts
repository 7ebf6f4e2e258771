/**
 * API tokens (worker/workspace/api-tokens.ts), called on the module directly
 * over a fresh workspace object's real storage, with the clock set by the
 * test: what a new token is and stores, its expiry in whole days, which are
 * listed, revoking, the exact shape a token must have, what it
 * authenticates as, when it stops working (at its expiry, not a millisecond
 * before), and when its last use is written. (`api-tokens.test.ts` drives
 * scopes, expiry and last use through the REST API; the scope check itself
 * is in `operator-rules.test.ts`.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { sha256 } from "../worker/lib/crypto";
import type { Operator, TokenScope } from "../worker/protocol";
import { ApiTokens } from "../worker/workspace/api-tokens";
import type { WorkspaceContext } from "../worker/workspace/context";
import { Operators } from "../worker/workspace/operators";
import { inFreshWorkspace, outcome, refusal } from "./helpers";

const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const MINUTE = 60_000;
const DAY = 86_400_000;
const ID = /^[A-Za-z0-9_-]{22}$/;
const INVALID = { code: "unauthorized", message: "API token is missing, revoked or invalid" };
let now = T0;
afterEach(() => vi.restoreAllMocks());

interface Ctx {
  tokens: ApiTokens;
  w: WorkspaceContext;
  /** Ada, an admin, added at T0. */
  ada: Operator;
  /** Bob, not an admin, added at T0. */
  bob: Operator;
}

/** Runs `fn` with ApiTokens over a new workspace object's storage holding Ada and Bob, the clock at T0. */
function withTokens<T>(fn: (c: Ctx) => T): Promise<Awaited<T>> {
  now = T0;
  vi.spyOn(Date, "now").mockImplementation(() => now);
  return inFreshWorkspace("tokens", (w) => {
    const ops = new Operators(w);
    const ada = ops.insert({ name: "Ada", email: "ada@example.com", passwordHash: "h", admin: true });
    const bob = ops.insert({ name: "Bob", email: "bob@example.com", passwordHash: "h", admin: false });
    return fn({ tokens: new ApiTokens(w), w, ada, bob });
  }) as Promise<Awaited<T>>;
}

/** Stores a token whose secret is `raw` directly (as if made earlier), for secrets `create` would never make. */
async function store(w: WorkspaceContext, id: string, raw: string, operatorId: string, scope: TokenScope = "read") {
  w.sql.exec(
    "INSERT INTO api_tokens (id, name, token_hash, operator_id, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, NULL)",
    id,
    `stored ${id}`,
    await sha256(raw),
    operatorId,
    scope,
    T0,
  );
}

const lastUsed = (w: WorkspaceContext, id: string) =>
  w.sql.exec<{ at: number | null }>("SELECT last_used_at AS at FROM api_tokens WHERE id = ?", id).one().at;

describe("a new token", () => {
  it("is mct_ and 44 characters, stored only as its hash, acting as its creator with its scope, unused", async () => {
    const seen = await withTokens(async ({ tokens, w, ada }) => {
      const made = await tokens.create(ada, { name: "CRM sync", scope: "write", expiresInDays: null });
      const other = await tokens.create(ada, { name: "CRM sync", scope: "write", expiresInDays: null });
      const row = w.sql.exec("SELECT * FROM api_tokens WHERE id = ?", made.info.id).one();
      return { ada, made, other, row, hash: await sha256(made.token) };
    });
    expect(seen.made.token).toMatch(/^mct_[A-Za-z0-9_-]{44}$/);
    expect(seen.other.token).not.toBe(seen.made.token);
    expect(seen.made.info).toStrictEqual({
      id: seen.made.info.id,
      name: "CRM sync",
      operatorId: seen.ada.id,
      scope: "write",
      createdAt: T0,
      expiresAt: null,
      lastUsedAt: null,
    });
    expect(seen.made.info.id).toMatch(ID);
    expect(seen.other.info.id).not.toBe(seen.made.info.id);
    expect(seen.row).toEqual({
      id: seen.made.info.id,
      name: "CRM sync",
      token_hash: seen.hash,
      operator_id: seen.ada.id,
      scope: "write",
      created_at: T0,
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
    });
    expect(JSON.stringify(seen.row), "the raw token is stored").not.toContain(seen.made.token.slice(4));
  });

  it("expires in whole days from now, or never", async () => {
    const seen = await withTokens(async ({ tokens, w, ada }) => {
      const infos = [];
      for (const expiresInDays of [1, 30, 3650, null]) {
        infos.push((await tokens.create(ada, { name: `${expiresInDays}`, scope: "read", expiresInDays })).info);
      }
      const stored = w.sql
        .exec<{ expires_at: number | null }>("SELECT expires_at FROM api_tokens ORDER BY rowid")
        .toArray()
        .map((r) => r.expires_at);
      return { expiresAt: infos.map((i) => i.expiresAt), stored };
    });
    const expected = [T0 + DAY, T0 + 30 * DAY, T0 + 3650 * DAY, null];
    expect(seen.expiresAt).toEqual(expected);
    expect(seen.stored).toEqual(expected);
  });
});

describe("listing and revoking", () => {
  it("lists every token not revoked, oldest first, expired ones included, with their last use", async () => {
    const seen = await withTokens(async ({ tokens, ada, bob }) => {
      const zed = await tokens.create(ada, { name: "Zed", scope: "admin", expiresInDays: 1 });
      now = T0 + 1000;
      const alpha = await tokens.create(bob, { name: "Alpha", scope: "read", expiresInDays: null });
      now = T0 + 2000;
      const gone = await tokens.create(ada, { name: "Gone", scope: "write", expiresInDays: null });
      const revoked = tokens.revoke(gone.info.id);
      now = T0 + 3000;
      await tokens.authenticate(alpha.token);
      now = T0 + 2 * DAY; // Zed has expired.
      return { zed, alpha, revoked, list: tokens.list() };
    });
    expect(seen.revoked).toBe("Gone");
    expect(seen.list).toStrictEqual([
      { ...seen.zed.info, expiresAt: T0 + DAY },
      { ...seen.alpha.info, lastUsedAt: T0 + 3000 },
    ]);
  });

  it("revoking returns the token's name and stamps when; a revoked or unknown token is not found", async () => {
    const seen = await withTokens(async ({ tokens, w, ada }) => {
      const crm = await tokens.create(ada, { name: "CRM", scope: "read", expiresInDays: null });
      const keep = await tokens.create(ada, { name: "Keep", scope: "read", expiresInDays: null });
      now = T0 + 5000;
      const name = tokens.revoke(crm.info.id);
      now = T0 + 9000;
      const again = refusal(() => tokens.revoke(crm.info.id));
      const unknown = refusal(() => tokens.revoke("no-such-token"));
      const revokedAt = w.sql
        .exec<{ id: string; at: number | null }>("SELECT id, revoked_at AS at FROM api_tokens ORDER BY rowid")
        .toArray();
      return {
        crm,
        keep,
        name,
        again,
        unknown,
        revokedAt,
        use: await outcome(() => tokens.authenticate(crm.token)),
        kept: await outcome(() => tokens.authenticate(keep.token)),
      };
    });
    expect(seen.name).toBe("CRM");
    const notFound = { code: "not_found", message: "No such token" };
    expect(seen.again).toEqual(notFound);
    expect(seen.unknown).toEqual(notFound);
    expect(seen.revokedAt, "revoked once, at the first revocation").toEqual([
      { id: seen.crm.info.id, at: T0 + 5000 },
      { id: seen.keep.info.id, at: null },
    ]);
    expect(seen.use).toEqual(INVALID);
    expect(seen.kept).toMatchObject({ token: { id: seen.keep.info.id } });
  });
});

describe("authenticating", () => {
  it("acts as the token's operator, admin flag from storage, carrying the token's id, name and scope", async () => {
    const seen = await withTokens(async ({ tokens, ada, bob }) => {
      const read = await tokens.create(ada, { name: "Reader", scope: "read", expiresInDays: null });
      const admin = await tokens.create(ada, { name: "Root", scope: "admin", expiresInDays: 7 });
      const bobs = await tokens.create(bob, { name: "Bob's", scope: "write", expiresInDays: null });
      return {
        ada,
        bob,
        read,
        admin,
        bobs,
        actors: [
          await tokens.authenticate(read.token),
          await tokens.authenticate(admin.token),
          await tokens.authenticate(bobs.token),
        ],
      };
    });
    expect(seen.actors).toStrictEqual([
      { ...seen.ada, token: { id: seen.read.info.id, name: "Reader", scope: "read" } },
      { ...seen.ada, token: { id: seen.admin.info.id, name: "Root", scope: "admin" } },
      { ...seen.bob, token: { id: seen.bobs.info.id, name: "Bob's", scope: "write" } },
    ]);
    expect(seen.actors.map((a) => a.admin)).toEqual([true, true, false]);
  });

  it("a token is mct_ and exactly 44 of A-Z a-z 0-9 _ -; anything else is refused before its hash is looked up", async () => {
    const body = "AZaz09_-".repeat(6).slice(0, 44);
    const good = `mct_${body}`;
    const bad = [
      `mct_${body.slice(0, 43)}`,
      `mct_${body}A`,
      `mct_${body.slice(0, 43)}.`,
      `mct_${body.slice(0, 43)}+`,
      `mct_${body.slice(0, 43)}=`,
      `mct_${body.slice(0, 43)} `,
      `MCT_${body}`,
      `mc_${body}A`,
      `xmct_${body}`,
      ` mct_${body}`,
      `${good}\n`,
      "",
    ];
    const seen = await withTokens(async ({ tokens, w, ada }) => {
      // Every one of them stored, so only the shape can refuse it.
      await store(w, "good", good, ada.id);
      for (const [i, raw] of bad.entries()) await store(w, `bad${i}`, raw, ada.id);
      return {
        good: await outcome(() => tokens.authenticate(good)),
        bad: await Promise.all(bad.map((raw) => outcome(() => tokens.authenticate(raw)))),
        // An array reads as its one element: stored above as "good".
        array: await outcome(() => tokens.authenticate([good] as unknown as string)),
        missing: await outcome(() => tokens.authenticate(undefined as unknown as string)),
        unknown: await outcome(() => tokens.authenticate(`mct_${"B".repeat(44)}`)),
        untouched: bad.map((_, i) => lastUsed(w, `bad${i}`)),
      };
    });
    expect(seen.good).toMatchObject({ token: { id: "good", name: "stored good", scope: "read" } });
    expect(seen.bad).toEqual(bad.map(() => INVALID));
    expect(seen.array, "not a string, though it reads as the token").toEqual(INVALID);
    expect(seen.missing).toEqual(INVALID);
    expect(seen.unknown).toEqual(INVALID);
    expect(seen.untouched).toEqual(bad.map(() => null));
  });

  it("removing an operator revokes their tokens: refused as invalid, gone from the list; others' tokens stay", async () => {
    const seen = await withTokens(async ({ tokens, w, ada, bob }) => {
      const made = await tokens.create(bob, { name: "Bob's", scope: "write", expiresInDays: null });
      const earlier = await tokens.create(bob, { name: "Bob's old", scope: "read", expiresInDays: null });
      const adas = await tokens.create(ada, { name: "Ada's", scope: "read", expiresInDays: null });
      now = T0 + MINUTE;
      tokens.revoke(earlier.info.id);
      const before = await outcome(() => tokens.authenticate(made.token));
      now = T0 + 2 * MINUTE;
      new Operators(w).remove({ id: "someone-else" } as Operator, bob.id);
      const revokedAt = w.sql
        .exec<{ id: string; revoked_at: number | null }>(
          "SELECT id, revoked_at FROM api_tokens ORDER BY created_at, id",
        )
        .toArray();
      return {
        ids: { made: made.info.id, earlier: earlier.info.id, adas: adas.info.id },
        before,
        after: await outcome(() => tokens.authenticate(made.token)),
        adaStill: await outcome(() => tokens.authenticate(adas.token)),
        listed: tokens.list().map((t) => t.name),
        revokedAt: Object.fromEntries(revokedAt.map((r) => [r.id, r.revoked_at])),
      };
    });
    expect(seen.before).toMatchObject({ id: expect.stringMatching(ID), token: { name: "Bob's" } });
    expect(seen.after).toEqual(INVALID);
    expect(seen.adaStill).toMatchObject({ token: { name: "Ada's" } });
    expect(seen.listed).toEqual(["Ada's"]);
    // Revoked at the removal; a token revoked before keeps the time it was revoked.
    expect(seen.revokedAt).toEqual({
      [seen.ids.made]: T0 + 2 * MINUTE,
      [seen.ids.earlier]: T0 + MINUTE,
      [seen.ids.adas]: null,
    });
  });

  it("stops working at its expiry, not a millisecond before, saying on which day; no expiry works forever", async () => {
    const seen = await withTokens(async ({ tokens, w, ada }) => {
      const day = await tokens.create(ada, { name: "Day", scope: "read", expiresInDays: 1 });
      const never = await tokens.create(ada, { name: "Never", scope: "read", expiresInDays: null });
      now = T0 + DAY - 1;
      const before = await outcome(() => tokens.authenticate(day.token));
      w.sql.exec("UPDATE api_tokens SET last_used_at = NULL WHERE id = ?", day.info.id);
      now = T0 + DAY;
      const at = await outcome(() => tokens.authenticate(day.token));
      now = T0 + 100 * 365 * DAY;
      const later = await outcome(() => tokens.authenticate(day.token));
      const forever = await outcome(() => tokens.authenticate(never.token));
      return { day, before, at, later, forever, dayUsed: lastUsed(w, day.info.id) };
    });
    const expired = {
      code: "unauthorized",
      message: "This API token expired on 2023-11-15; an admin can create a new one under Integrations",
    };
    expect(seen.before).toMatchObject({ token: { name: "Day" } });
    expect(seen.at).toEqual(expired);
    expect(seen.later).toEqual(expired);
    expect(seen.forever).toMatchObject({ token: { name: "Never" } });
    expect(seen.dayUsed, "a refused use is recorded as a use").toBeNull();
  });
});

describe("last use", () => {
  it("is written on first use, then again only once a full minute has passed", async () => {
    const seen = await withTokens(async ({ tokens, w, ada }) => {
      const made = await tokens.create(ada, { name: "CRM", scope: "read", expiresInDays: null });
      const other = await tokens.create(ada, { name: "Other", scope: "read", expiresInDays: null });
      const at: (number | null)[] = [lastUsed(w, made.info.id)];
      for (const t of [T0, T0 + MINUTE - 1, T0 + MINUTE, T0 + 2 * MINUTE - 1, T0 + 2 * MINUTE + 5]) {
        now = t;
        await tokens.authenticate(made.token);
        at.push(lastUsed(w, made.info.id));
      }
      return { at, other: lastUsed(w, other.info.id), listed: tokens.list()[0]!.lastUsedAt };
    });
    expect(seen.at).toEqual([null, T0, T0, T0 + MINUTE, T0 + MINUTE, T0 + 2 * MINUTE + 5]);
    expect(seen.other, "another token's last use").toBeNull();
    expect(seen.listed).toBe(T0 + 2 * MINUTE + 5);
  });

  it("a first use is written whatever the clock says, even within a minute of the epoch", async () => {
    // Pins the "never used" branch on its own: with a clock past the first
    // minute, the minute rule alone would write a first use too.
    const seen = await withTokens(async ({ tokens, w, ada }) => {
      now = 30_000;
      const made = await tokens.create(ada, { name: "Early", scope: "read", expiresInDays: null });
      await tokens.authenticate(made.token);
      return lastUsed(w, made.info.id);
    });
    expect(seen).toBe(30_000);
  });
});
