/**
 * Operators and their sessions (worker/workspace/operators.ts), called on the
 * module directly over a fresh workspace object's real storage, with the
 * clock set by the test: the one admin check and what a token's scope takes
 * from it, who may delete a conversation, setup, adding, listing and
 * removing operators, and when a session is made, touched, refused, purged
 * and ended, each at its edge. (`auth.test.ts`, `sessions.test.ts`,
 * `workspace.test.ts` and `authorization*.test.ts` drive the same rules
 * through the routes and the object's RPC methods.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { Refused } from "../worker/errors";
import { sha256 } from "../worker/lib/crypto";
import type { Operator } from "../worker/protocol";
import type { WorkspaceContext } from "../worker/workspace/context";
import { Operators, SESSION_IDLE_MS, SESSION_TTL_MS, toOperator } from "../worker/workspace/operators";
import { inFreshWorkspace, refusal, refusalOf } from "./helpers";

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const ID = /^[A-Za-z0-9_-]{22}$/;
let now = T0;
afterEach(() => vi.restoreAllMocks());

/** Runs `fn` with Operators over a new workspace object's storage, the clock at T0 (move it with `now = …`). */
function withOperators<T>(fn: (ops: Operators, w: WorkspaceContext) => T): Promise<Awaited<T>> {
  now = T0;
  vi.spyOn(Date, "now").mockImplementation(() => now);
  return inFreshWorkspace("operators", (w) => fn(new Operators(w), w)) as Promise<Awaited<T>>;
}

/** Ada (admin) and Bob (not), added at T0. */
function adaAndBob(ops: Operators): { ada: Operator; bob: Operator } {
  const ada = ops.insert({ name: "Ada", email: "ada@example.com", passwordHash: "hash-ada", admin: true });
  const bob = ops.insert({ name: "Bob", email: "bob@example.com", passwordHash: "hash-bob", admin: false });
  return { ada, bob };
}

const withToken = (op: Operator, scope: "read" | "write" | "admin", name = "CRM"): Operator => ({
  ...op,
  token: { id: "t1", name, scope },
});

type SessionRow = {
  token_hash: string;
  operator_id: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
};

/** Stores a session with id `hash` directly (as if made earlier). */
function putSession(w: WorkspaceContext, hash: string, operatorId: string, expiresAt: number, lastSeenAt: number) {
  w.sql.exec(
    "INSERT INTO sessions (token_hash, operator_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
    hash,
    operatorId,
    T0 - 1,
    expiresAt,
    lastSeenAt,
  );
}

const sessionRow = (w: WorkspaceContext, hash: string): SessionRow | undefined =>
  w.sql.exec<SessionRow>("SELECT * FROM sessions WHERE token_hash = ?", hash).toArray()[0];

const sessionHashes = (w: WorkspaceContext): string[] =>
  w.sql
    .exec<{ token_hash: string }>("SELECT token_hash FROM sessions ORDER BY token_hash")
    .toArray()
    .map((r) => r.token_hash);

describe("the admin check", () => {
  it("reads the admin flag from storage, not from the caller's copy; an unknown operator is no admin", async () => {
    const seen = await withOperators((ops) => {
      const { ada, bob } = adaAndBob(ops);
      const ghost = { ...ada, id: "no-such-operator" };
      return {
        isAdmin: [
          ops.isAdmin(ada),
          ops.isAdmin({ ...ada, admin: false }),
          ops.isAdmin(bob),
          ops.isAdmin({ ...bob, admin: true }),
          ops.isAdmin(ghost),
        ],
        adaPasses: ops.requireAdmin(ada, "manage operators"),
        bob: refusal(() => ops.requireAdmin({ ...bob, admin: true }, "manage operators")),
        ghost: refusal(() => ops.requireAdmin(ghost, "manage API tokens")),
      };
    });
    expect(seen.isAdmin).toEqual([true, true, false, false, false]);
    expect(seen.adaPasses).toBeUndefined();
    expect(seen.bob).toEqual({ code: "forbidden", message: "Only admins can manage operators" });
    expect(seen.ghost).toEqual({ code: "forbidden", message: "Only admins can manage API tokens" });
  });

  it("a read or write token is no admin, whoever made it; an admin token is as admin as its operator", async () => {
    const seen = await withOperators((ops) => {
      const { ada, bob } = adaAndBob(ops);
      return {
        isAdmin: [
          ops.isAdmin(withToken(ada, "read")),
          ops.isAdmin(withToken(ada, "write")),
          ops.isAdmin(withToken(ada, "admin")),
          ops.isAdmin(withToken(bob, "read")),
          ops.isAdmin(withToken(bob, "admin")),
        ],
        read: refusal(() => ops.requireAdmin(withToken(ada, "read", "CRM sync"), "manage webhooks")),
        write: refusal(() => ops.requireAdmin(withToken(ada, "write", "Backup"), "manage API tokens")),
        adminToken: ops.requireAdmin(withToken(ada, "admin"), "manage webhooks"),
        adminTokenOfBob: refusal(() => ops.requireAdmin(withToken(bob, "admin"), "manage webhooks")),
      };
    });
    expect(seen.isAdmin).toEqual([false, false, true, false, false]);
    expect(seen.read).toEqual({
      code: "forbidden",
      message: 'The API token "CRM sync" has the read scope; only a token with the admin scope can manage webhooks',
    });
    expect(seen.write).toEqual({
      code: "forbidden",
      message: 'The API token "Backup" has the write scope; only a token with the admin scope can manage API tokens',
    });
    expect(seen.adminToken).toBeUndefined();
    expect(seen.adminTokenOfBob, "an admin-scope token of a non-admin").toEqual({
      code: "forbidden",
      message: "Only admins can manage webhooks",
    });
  });
});

describe("who may delete a conversation", () => {
  it("admins always, on admin grounds; the operators in it only when the policy says so", async () => {
    const seen = await withOperators((ops) => {
      const { ada, bob } = adaAndBob(ops);
      const grounds = (actor: Operator, joined: boolean, policy: "admins" | "admins_and_joined") => {
        try {
          return ops.mayDelete(actor, joined, policy);
        } catch (err) {
          if (err instanceof Refused) return `${err.code}: ${err.message}`;
          throw err;
        }
      };
      return [
        grounds(ada, false, "admins"),
        grounds(ada, true, "admins"),
        grounds(ada, false, "admins_and_joined"),
        grounds(ada, true, "admins_and_joined"),
        grounds(bob, true, "admins_and_joined"),
        grounds(bob, false, "admins_and_joined"),
        grounds(bob, true, "admins"),
        grounds(bob, false, "admins"),
        grounds({ ...bob, admin: true }, false, "admins"),
        grounds(withToken(ada, "write"), true, "admins_and_joined"),
        grounds(withToken(ada, "write"), false, "admins_and_joined"),
        grounds(withToken(ada, "write"), true, "admins"),
        grounds(withToken(ada, "admin"), false, "admins"),
      ];
    });
    const admins = "forbidden: Only admins can delete conversations in this workspace";
    const joined = "forbidden: Only admins and the operators in this conversation can delete it";
    expect(seen).toEqual([
      "admin",
      "admin",
      "admin",
      "admin",
      "joined",
      joined,
      admins,
      admins,
      admins,
      "joined",
      joined,
      admins,
      "admin",
    ]);
  });
});

describe("setup and adding operators", () => {
  it("setup makes the first admin and signs them in, once; then it is refused and adds no one", async () => {
    const seen = await withOperators(async (ops) => {
      const before = ops.needsSetup();
      const first = await ops.setup({ name: "Ada", email: "ada@example.com", passwordHash: "hash-ada" });
      const after = ops.needsSetup();
      const signedIn = await ops.authenticate(first.token);
      const again = await refusalOf(() =>
        ops.setup({ name: "Eve", email: "eve@example.com", passwordHash: "hash-eve" }),
      );
      return { before, first, after, signedIn, again, list: ops.list(), eve: ops.credentials("eve@example.com") };
    });
    expect(seen.before).toBe(true);
    expect(seen.first.operator).toStrictEqual({
      id: seen.first.operator.id,
      name: "Ada",
      email: "ada@example.com",
      admin: true,
      createdAt: T0,
    });
    expect(seen.first.operator.id).toMatch(ID);
    expect(seen.first.token).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(seen.signedIn).toStrictEqual(seen.first.operator);
    expect(seen.after).toBe(false);
    expect(seen.again).toEqual({ code: "already_set_up", message: "This workspace is already set up" });
    expect(seen.list).toStrictEqual([seen.first.operator]);
    expect(seen.eve).toBeNull();
  });

  it("an operator is stored with its name, email, password hash, admin flag and the time it was added", async () => {
    const seen = await withOperators((ops, w) => {
      const ada = ops.insert({ name: "Ada", email: "ada@example.com", passwordHash: "hash-ada", admin: true });
      now = T0 + 5000;
      const bob = ops.insert({ name: "Bob", email: "bob@example.com", passwordHash: "hash-bob", admin: false });
      const rows = w.sql.exec("SELECT * FROM operators ORDER BY created_at").toArray();
      return { ada, bob, rows, setupAfter: ops.needsSetup() };
    });
    expect(seen.ada).toStrictEqual({
      id: seen.ada.id,
      name: "Ada",
      email: "ada@example.com",
      admin: true,
      createdAt: T0,
    });
    expect(seen.bob).toStrictEqual({
      id: seen.bob.id,
      name: "Bob",
      email: "bob@example.com",
      admin: false,
      createdAt: T0 + 5000,
    });
    expect(seen.ada.id).toMatch(ID);
    expect(seen.bob.id).toMatch(ID);
    expect(seen.ada.id).not.toBe(seen.bob.id);
    expect(seen.rows).toEqual([
      {
        id: seen.ada.id,
        name: "Ada",
        email: "ada@example.com",
        password_hash: "hash-ada",
        admin: 1,
        created_at: T0,
        away: 0,
      },
      {
        id: seen.bob.id,
        name: "Bob",
        email: "bob@example.com",
        password_hash: "hash-bob",
        admin: 0,
        created_at: T0 + 5000,
        away: 0,
      },
    ]);
    expect(seen.setupAfter, "an operator added any way ends setup").toBe(false);
  });

  it("an email already taken, however it is cased, is refused and nothing is added", async () => {
    const seen = await withOperators((ops, w) => {
      adaAndBob(ops);
      const taken = [
        refusal(() => ops.insert({ name: "Ada 2", email: "ada@example.com", passwordHash: "x", admin: false })),
        refusal(() => ops.insert({ name: "Ada 3", email: "ADA@Example.COM", passwordHash: "x", admin: true })),
      ];
      const count = w.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM operators").one().n;
      return { taken, count };
    });
    const refused = { code: "email_taken", message: "An operator with that email already exists" };
    expect(seen.taken).toEqual([refused, refused]);
    expect(seen.count).toBe(2);
  });

  it("an operator as the Worker sees it has no password hash and a boolean admin flag", () => {
    const row = { id: "o1", name: "Ada", email: "a@x", password_hash: "secret", admin: 1, created_at: 7 };
    expect(toOperator(row)).toStrictEqual({ id: "o1", name: "Ada", email: "a@x", admin: true, createdAt: 7 });
    expect(toOperator({ ...row, admin: 0 })).toStrictEqual({
      id: "o1",
      name: "Ada",
      email: "a@x",
      admin: false,
      createdAt: 7,
    });
  });
});

describe("listing operators", () => {
  it("the list goes oldest first; the roster goes by name with each one's chosen status", async () => {
    const seen = await withOperators((ops) => {
      const carol = ops.insert({ name: "Carol", email: "carol@example.com", passwordHash: "h", admin: false });
      now = T0 + 1000;
      const ada = ops.insert({ name: "Ada", email: "ada@example.com", passwordHash: "h", admin: true });
      now = T0 + 2000;
      const bob = ops.insert({ name: "Bob", email: "bob@example.com", passwordHash: "h", admin: false });
      const list = ops.list();
      const fresh = ops.roster();
      ops.setStatus(bob.id, "away");
      const bobAway = ops.roster();
      ops.setStatus(bob.id, "online");
      ops.setStatus(carol.id, "away");
      const carolAway = ops.roster();
      return { carol, ada, bob, list, fresh, bobAway, carolAway };
    });
    expect(seen.list).toStrictEqual([seen.carol, seen.ada, seen.bob]);
    const roster = (a: string, b: string, c: string) => [
      { id: seen.ada.id, name: "Ada", status: a },
      { id: seen.bob.id, name: "Bob", status: b },
      { id: seen.carol.id, name: "Carol", status: c },
    ];
    expect(seen.fresh).toStrictEqual(roster("online", "online", "online"));
    expect(seen.bobAway).toStrictEqual(roster("online", "away", "online"));
    expect(seen.carolAway, "online again, and only the one operator changes").toStrictEqual(
      roster("online", "online", "away"),
    );
  });

  it("credentials are the stored hash for an email, looked up case-insensitively; an unknown email has none", async () => {
    const seen = await withOperators((ops) => {
      const { ada, bob } = adaAndBob(ops);
      return {
        ada,
        bob,
        exact: ops.credentials("ada@example.com"),
        cased: ops.credentials("BOB@example.com"),
        unknown: ops.credentials("eve@example.com"),
        exists: [ops.exists(ada.id), ops.exists(bob.id), ops.exists("no-such-operator")],
      };
    });
    expect(seen.exact).toStrictEqual({ operatorId: seen.ada.id, passwordHash: "hash-ada" });
    expect(seen.cased).toStrictEqual({ operatorId: seen.bob.id, passwordHash: "hash-bob" });
    expect(seen.unknown).toBeNull();
    expect(seen.exists).toEqual([true, true, false]);
  });
});

describe("removing an operator", () => {
  it("nobody removes themselves, and an unknown operator is not found; nothing is removed", async () => {
    const seen = await withOperators((ops) => {
      const { ada, bob } = adaAndBob(ops);
      return {
        self: refusal(() => ops.remove(ada, ada.id)),
        selfUnknown: refusal(() => ops.remove({ ...ada, id: "gone" }, "gone")),
        unknown: refusal(() => ops.remove(ada, "no-such-operator")),
        left: ops.list().map((o) => o.id),
        ids: [ada.id, bob.id],
      };
    });
    expect(seen.self).toEqual({ code: "cannot_remove_self", message: "You cannot remove yourself" });
    expect(seen.selfUnknown, "oneself is checked first").toEqual({
      code: "cannot_remove_self",
      message: "You cannot remove yourself",
    });
    expect(seen.unknown).toEqual({ code: "not_found", message: "No such operator" });
    expect(seen.left).toEqual(seen.ids);
  });

  it("removes the operator and every session of theirs; other operators' sessions stay; the email is free again", async () => {
    const seen = await withOperators(async (ops, w) => {
      const { ada, bob } = adaAndBob(ops);
      const adaToken = await ops.createSession(ada.id);
      const bobTokens = [await ops.createSession(bob.id), await ops.createSession(bob.id)];
      const removed = ops.remove(ada, bob.id);
      const bobSessions = w.sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE operator_id = ?", bob.id)
        .one().n;
      return {
        ada,
        removed,
        list: ops.list(),
        exists: ops.exists(bob.id),
        credentials: ops.credentials("bob@example.com"),
        bobSessions,
        bobSignedIn: [await ops.authenticate(bobTokens[0]!), await ops.authenticate(bobTokens[1]!)],
        adaSignedIn: await ops.authenticate(adaToken),
        readded: ops.insert({ name: "Bob", email: "bob@example.com", passwordHash: "new", admin: false }).name,
      };
    });
    expect(seen.removed).toBeUndefined();
    expect(seen.list).toStrictEqual([seen.ada]);
    expect(seen.exists).toBe(false);
    expect(seen.credentials).toBeNull();
    expect(seen.bobSessions).toBe(0);
    expect(seen.bobSignedIn).toEqual([null, null]);
    expect(seen.adaSignedIn).toStrictEqual(seen.ada);
    expect(seen.readded).toBe("Bob");
  });
});

describe("sessions", () => {
  it("last at most 30 days, and end after 12 hours unused", () => {
    expect(SESSION_TTL_MS).toBe(2_592_000_000);
    expect(SESSION_IDLE_MS).toBe(43_200_000);
  });

  it("a new session stores only its token's hash, for 30 days from now, used now; each token is new", async () => {
    const seen = await withOperators(async (ops, w) => {
      const { ada } = adaAndBob(ops);
      const token = await ops.createSession(ada.id);
      const other = await ops.createSession(ada.id);
      const rows = w.sql.exec<SessionRow>("SELECT * FROM sessions ORDER BY token_hash").toArray();
      return { ada, token, other, hash: await sha256(token), rows, row: sessionRow(w, await sha256(token)) };
    });
    expect(seen.token).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(seen.other).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(seen.other).not.toBe(seen.token);
    expect(seen.rows).toHaveLength(2);
    expect(seen.row).toStrictEqual({
      token_hash: seen.hash,
      operator_id: seen.ada.id,
      created_at: T0,
      expires_at: T0 + SESSION_TTL_MS,
      last_seen_at: T0,
    });
    expect(JSON.stringify(seen.rows), "the raw token is stored").not.toContain(seen.token);
  });

  it("a new session first purges every operator's expired and idle sessions, not those exactly at their edge", async () => {
    const seen = await withOperators(async (ops, w) => {
      const { ada, bob } = adaAndBob(ops);
      const far = T0 + SESSION_TTL_MS;
      putSession(w, "expired", bob.id, T0 - 1, T0);
      putSession(w, "expires-now", bob.id, T0, T0);
      putSession(w, "idle", bob.id, far, T0 - SESSION_IDLE_MS - 1);
      putSession(w, "idle-now", ada.id, far, T0 - SESSION_IDLE_MS);
      putSession(w, "fresh", bob.id, T0 + 1, T0);
      const token = await ops.createSession(ada.id);
      return { hashes: sessionHashes(w), mine: await sha256(token) };
    });
    expect(seen.hashes).toEqual(["expires-now", "fresh", "idle-now", seen.mine].sort());
  });

  it("a session is refused and deleted at its expiry, not a millisecond before", async () => {
    const seen = await withOperators((ops, w) => {
      const { ada } = adaAndBob(ops);
      now = T0 + 10 * MINUTE;
      putSession(w, "ends-now", ada.id, now, now);
      putSession(w, "ends-next", ada.id, now + 1, now);
      return {
        ada,
        endsNow: ops.session("ends-now"),
        endsNowRow: sessionRow(w, "ends-now"),
        endsNext: ops.session("ends-next"),
        endsNextRow: sessionRow(w, "ends-next"),
        unknown: ops.session("no-such-session"),
      };
    });
    expect(seen.endsNow).toBeNull();
    expect(seen.endsNowRow, "the expired session is still stored").toBeUndefined();
    expect(seen.endsNext).toStrictEqual({ operator: seen.ada, id: "ends-next", expiresAt: T0 + 10 * MINUTE + 1 });
    expect(seen.endsNextRow?.last_seen_at, "a use just now is not written again").toBe(T0 + 10 * MINUTE);
    expect(seen.unknown).toBeNull();
  });

  it("a session unused for exactly 12 hours is refused and deleted; a millisecond less and it is used now", async () => {
    const seen = await withOperators((ops, w) => {
      const { ada } = adaAndBob(ops);
      now = T0 + SESSION_IDLE_MS;
      const far = T0 + SESSION_TTL_MS;
      putSession(w, "idle", ada.id, far, T0);
      putSession(w, "nearly", ada.id, far, T0 + 1);
      return {
        ada,
        idle: ops.session("idle"),
        idleRow: sessionRow(w, "idle"),
        nearly: ops.session("nearly"),
        nearlyRow: sessionRow(w, "nearly"),
      };
    });
    expect(seen.idle).toBeNull();
    expect(seen.idleRow, "the idle session is still stored").toBeUndefined();
    expect(seen.nearly).toStrictEqual({ operator: seen.ada, id: "nearly", expiresAt: T0 + SESSION_TTL_MS });
    expect(seen.nearlyRow?.last_seen_at, "the use was not recorded").toBe(T0 + SESSION_IDLE_MS);
  });

  it("a use is written once a minute has passed since the last, not sooner", async () => {
    const seen = await withOperators((ops, w) => {
      const { ada } = adaAndBob(ops);
      now = T0 + 10 * MINUTE;
      const far = T0 + SESSION_TTL_MS;
      putSession(w, "minute", ada.id, far, now - MINUTE);
      putSession(w, "less", ada.id, far, now - MINUTE + 1);
      const answers = [ops.session("minute"), ops.session("less")];
      return { answers, minute: sessionRow(w, "minute"), less: sessionRow(w, "less") };
    });
    expect(seen.answers.map((s) => s?.id)).toEqual(["minute", "less"]);
    expect(seen.minute?.last_seen_at).toBe(T0 + 10 * MINUTE);
    expect(seen.less?.last_seen_at).toBe(T0 + 9 * MINUTE + 1);
  });

  it("an expired session is refused even when used a moment ago; an idle one even with days left", async () => {
    const seen = await withOperators((ops, w) => {
      const { ada } = adaAndBob(ops);
      now = T0 + SESSION_TTL_MS;
      putSession(w, "expired-but-used", ada.id, now - 1, now - 1);
      putSession(w, "idle-with-days-left", ada.id, now + SESSION_TTL_MS, now - SESSION_IDLE_MS - MINUTE);
      return [ops.session("expired-but-used"), ops.session("idle-with-days-left"), sessionHashes(w)];
    });
    expect(seen).toEqual([null, null, []]);
  });

  it("a token must be a 44-character string: anything else is refused before its hash is looked up", async () => {
    const short = "A".repeat(43);
    const long = "A".repeat(45);
    const array = Array.from({ length: 44 }, () => "A");
    const seen = await withOperators(async (ops, w) => {
      const { ada } = adaAndBob(ops);
      const far = T0 + SESSION_TTL_MS;
      // Sessions stored under the hashes these would have, were they looked up.
      for (const t of [short, long, String(array)]) putSession(w, await sha256(t), ada.id, far, T0);
      const token = await ops.createSession(ada.id);
      return {
        ada,
        token,
        refused: [
          await ops.sessionOf(short),
          await ops.sessionOf(long),
          await ops.sessionOf(array as unknown as string),
          await ops.sessionOf(undefined as unknown as string),
          await ops.authenticate(short),
          await ops.authenticate(`${token.slice(0, 43)}x`),
        ],
        stored: ops.session(await sha256(short))?.id === (await sha256(short)),
        session: await ops.sessionOf(token),
        authenticated: await ops.authenticate(token),
        hash: await sha256(token),
      };
    });
    expect(seen.refused).toEqual([null, null, null, null, null, null]);
    expect(seen.stored, "the 43-character token's session is there to be found").toBe(true);
    expect(seen.session).toStrictEqual({ operator: seen.ada, id: seen.hash, expiresAt: T0 + SESSION_TTL_MS });
    expect(seen.authenticated).toStrictEqual(seen.ada);
  });

  it("signing out ends that one session and says whose it was; an unknown token ends nothing", async () => {
    const seen = await withOperators(async (ops, w) => {
      const { ada } = adaAndBob(ops);
      const laptop = await ops.createSession(ada.id);
      const phone = await ops.createSession(ada.id);
      const ended = await ops.endSession(laptop);
      return {
        ada,
        ended,
        laptopHash: await sha256(laptop),
        again: await ops.endSession(laptop),
        unknown: await ops.endSession("A".repeat(44)),
        laptop: await ops.authenticate(laptop),
        phone: await ops.authenticate(phone),
        hashes: sessionHashes(w),
        phoneHash: await sha256(phone),
      };
    });
    expect(seen.ended).toStrictEqual({ operatorId: seen.ada.id, sessionId: seen.laptopHash });
    expect(seen.again).toBeNull();
    expect(seen.unknown).toBeNull();
    expect(seen.laptop).toBeNull();
    expect(seen.phone).toStrictEqual(seen.ada);
    expect(seen.hashes).toEqual([seen.phoneHash]);
  });

  it("signing out everywhere ends every session of that operator only, and counts them", async () => {
    const seen = await withOperators(async (ops) => {
      const { ada, bob } = adaAndBob(ops);
      const adas = [await ops.createSession(ada.id), await ops.createSession(ada.id), await ops.createSession(ada.id)];
      const bobs = await ops.createSession(bob.id);
      const ended = ops.endSessions(ada.id);
      const again = ops.endSessions(ada.id);
      const adaLeft = await Promise.all(adas.map((t) => ops.authenticate(t)));
      return { bob, ended, again, adaLeft, bobLeft: await ops.authenticate(bobs), nobody: ops.endSessions("nobody") };
    });
    expect(seen.ended).toBe(3);
    expect(seen.again).toBe(0);
    expect(seen.nobody).toBe(0);
    expect(seen.adaLeft).toEqual([null, null, null]);
    expect(seen.bobLeft).toStrictEqual(seen.bob);
  });
});
