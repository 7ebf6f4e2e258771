/**
 * Visitor tokens over time, written as the attacks: a token planted in a
 * shared browser before the customer logs in, a copy rotated from it, a
 * token that outlived its expiry, a visitor who logs out; and a deleted
 * conversation that must not lock a verified customer out.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signToken } from "../worker/lib/crypto";
import type { SocketTicket, VisitorSession } from "../worker/protocol";
import { fetchApp, identityHash, newVisitorSession, say, signInAdmin, visitorSocket } from "./helpers";

const DAY = 24 * 3600 * 1000;

const hmac = (userId: string) => identityHash(userId);

/** `Microchat.setUser` as the loader sends it (cross-site, text/plain). */
async function identify(token: string | undefined, user: Record<string, unknown>) {
  const res = await fetchApp("/api/visitor/identify", {
    method: "POST",
    headers: { "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site" },
    body: JSON.stringify({ siteKey: "demo", token, user }),
  });
  expect(res.status, "identify").toBe(200);
  return (await res.json()) as VisitorSession & { verified: boolean };
}

/** A verified login of `userId` in the browser holding `token`. */
async function logIn(token: string | undefined, userId: string, name = "Kari Customer") {
  return identify(token, { id: userId, name, email: `${userId}@example.org`, hash: await hmac(userId) });
}

async function logout(token: string): Promise<Response> {
  return fetchApp("/api/visitor/logout", {
    method: "POST",
    headers: { "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site" },
    body: JSON.stringify({ siteKey: "demo", token }),
  });
}

/** Everything a token could read or do, by HTTP: each answer's status and error code. */
async function whatTokenGets(token: string) {
  const bearer = { Authorization: `Bearer ${token}` };
  const answer = async (res: Response) => {
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    return { status: res.status, code: body?.error?.code ?? null };
  };
  return {
    ticket: await answer(await fetchApp("/api/visitor/ticket", { method: "POST", headers: bearer })),
    messages: await answer(await fetchApp("/api/visitor/messages", { headers: bearer })),
    file: await answer(await fetchApp("/api/visitor/files/AAAAAAAAAAAAAAAAAAAAAA", { headers: bearer })),
    pageviews: await answer(
      await fetchApp("/api/visitor/pageviews", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({
          token,
          views: [{ id: crypto.randomUUID().slice(0, 22), url: "https://x.test/", title: "x", at: Date.now() }],
        }),
      }),
    ),
  };
}

const refusedAs = (code: string) => ({
  ticket: { status: 401, code },
  messages: { status: 401, code },
  file: { status: 401, code },
  pageviews: { status: 401, code },
});

/** A token as the server signs one, with the life given (for tokens older than the test can wait for). */
async function tokenLike(session: VisitorSession, life: { iat?: number; exp?: number; f?: string }): Promise<string> {
  const payload = JSON.parse(atob(session.token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as object;
  return signToken(env.SESSION_SECRET, { ...payload, ...life });
}

describe("a token issued before login", () => {
  it("reads nothing of the verified customer's conversation once they log in, and its socket closes", async () => {
    const userId = `kari-${crypto.randomUUID()}`;
    // The attacker takes a visitor token and leaves it in the shared browser, socket open.
    const planted = await newVisitorSession();
    const spy = await visitorSocket(planted);
    await spy.next("welcome");

    // The customer logs in on that browser: the site calls setUser with a valid hash.
    const customer = await logIn(planted.token, userId);
    expect(customer.verified).toBe(true);
    expect(customer.token, "a fresh token for the verified customer").not.toBe(planted.token);
    expect(customer.conversationId, "the visitor's conversation carries on as theirs").toBe(planted.conversationId);
    await spy.closedByServer("the planted token's socket");
    expect(spy.closeCode).toBe(4001);

    const own = await visitorSocket(customer);
    await own.next("welcome");
    await say(own, "my new address is 1 Secret Lane");

    // The planted token reads nothing, and gets no socket.
    expect(await whatTokenGets(planted.token)).toEqual(refusedAs("unauthorized"));
    // setUser without a hash on the planted token does not lead back in either.
    const again = await identify(planted.token, { id: userId });
    expect(again.conversationId, "an unverified setUser with the planted token").not.toBe(planted.conversationId);

    // The customer's own token and their other devices see the conversation.
    const history = await fetchApp("/api/visitor/messages", { headers: { Authorization: `Bearer ${customer.token}` } });
    expect(JSON.stringify(await history.json())).toContain("1 Secret Lane");
    const phone = await logIn(undefined, userId);
    expect(phone.conversationId).toBe(customer.conversationId);
    own.close();
  });

  it("a copy rotated from the planted token dies with it", async () => {
    const userId = `kari-${crypto.randomUUID()}`;
    const fresh = await newVisitorSession();
    // A token two days old: using it hands back a rotated one of the same family.
    const old = await tokenLike(fresh, { iat: Date.now() - 2 * DAY, exp: Date.now() + 28 * DAY });
    const ticket = await fetchApp("/api/visitor/ticket", {
      method: "POST",
      headers: { Authorization: `Bearer ${old}` },
    });
    const { session: rotated } = (await ticket.json()) as SocketTicket;
    expect(rotated?.conversationId, "a rotated token for the same conversation").toBe(fresh.conversationId);
    expect(rotated?.token).not.toBe(old);
    const payload = JSON.parse(atob(rotated!.token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as {
      exp: number;
      iat: number;
    };
    expect(payload.exp - payload.iat, "the rotated token's life").toBe(30 * DAY);

    await logIn(old, userId);
    expect(await whatTokenGets(rotated!.token), "the rotated copy after the login").toEqual(refusedAs("unauthorized"));
  });

  it("a site calling setUser on every page keeps one token, so no other tab is signed out", async () => {
    const userId = `kari-${crypto.randomUUID()}`;
    const first = await logIn((await newVisitorSession()).token, userId);
    const tab = await visitorSocket(first);
    await tab.next("welcome");
    const second = await logIn(first.token, userId);
    expect(second.token).toBe(first.token);
    await say(tab, "the other tab still writes");
    tab.close();
  });

  it("another user logging in on the same browser revokes the first user's token", async () => {
    const alice = await logIn((await newVisitorSession()).token, `alice-${crypto.randomUUID()}`, "Alice");
    const bob = await logIn(alice.token, `bob-${crypto.randomUUID()}`, "Bob");
    expect(bob.conversationId, "Bob is not put in Alice's conversation").not.toBe(alice.conversationId);
    expect(await whatTokenGets(alice.token)).toEqual(refusedAs("unauthorized"));
  });
});

describe("expiry", () => {
  it("an expired token is refused with a clear error (token_expired), and so is one from before tokens expired", async () => {
    const session = await newVisitorSession();
    const expired = await tokenLike(session, { iat: Date.now() - 31 * DAY, exp: Date.now() - DAY });
    expect(await whatTokenGets(expired)).toEqual(refusedAs("token_expired"));
    const res = await fetchApp("/api/visitor/ticket", {
      method: "POST",
      headers: { Authorization: `Bearer ${expired}` },
    });
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
    // The format before expiry existed (no family, no expiry): refused the same way.
    const legacy = await signToken(env.SESSION_SECRET, {
      t: "visitor",
      w: "demo",
      v: session.visitorId,
      c: session.conversationId,
    });
    expect(await whatTokenGets(legacy)).toEqual(refusedAs("token_expired"));
    // setUser with it starts afresh rather than failing.
    expect((await identify(expired, { id: "someone" })).conversationId).not.toBe(session.conversationId);
  });
});

describe("Microchat.logout()", () => {
  it("revokes the token: its socket closes, it reads nothing after, and other devices of the user go on", async () => {
    const userId = `kari-${crypto.randomUUID()}`;
    const laptop = await logIn((await newVisitorSession()).token, userId);
    const phone = await logIn(undefined, userId);
    const onLaptop = await visitorSocket(laptop);
    await onLaptop.next("welcome");
    const onPhone = await visitorSocket(phone);
    await onPhone.next("welcome");

    expect((await logout(laptop.token)).status).toBe(204);
    await onLaptop.closedByServer("the laptop's socket");
    expect(onLaptop.closeCode).toBe(4001);
    expect(await whatTokenGets(laptop.token)).toEqual(refusedAs("unauthorized"));
    expect((await logout(laptop.token)).status, "logging out twice").toBe(204);

    await say(onPhone, "the phone is still signed in");
    onPhone.close();
  });
});

describe("a deleted conversation never locks a verified customer out", () => {
  it("a stale token's setUser after deletion gives a new conversation, on every device after", async () => {
    const admin = await signInAdmin();
    const userId = `kari-${crypto.randomUUID()}`;
    const before = await logIn((await newVisitorSession()).token, userId);
    const v = await visitorSocket(before);
    await v.next("welcome");
    await say(v, "before deletion");
    v.close();
    const del = await fetchApp(`/api/conversations/${before.conversationId}`, {
      method: "DELETE",
      headers: { Cookie: admin },
    });
    expect(del.status).toBe(204);

    // The stale token, still in the customer's browser, logs in again.
    const after = await logIn(before.token, userId);
    expect(after.conversationId, "a new conversation").not.toBe(before.conversationId);
    // And from then on, from any device, that one.
    expect((await logIn(undefined, userId)).conversationId).toBe(after.conversationId);
    const s = await visitorSocket(after);
    expect((await s.next("welcome")).messages).toEqual([]);
    await say(s, "after deletion");
    s.close();
  });

  it("a binding left pointing at a deleted conversation is replaced, not answered 410", async () => {
    const admin = await signInAdmin();
    const userId = `kari-${crypto.randomUUID()}`;
    const first = await logIn((await newVisitorSession()).token, userId);
    const v = await visitorSocket(first);
    await v.next("welcome");
    await say(v, "hello");
    v.close();
    await fetchApp(`/api/conversations/${first.conversationId}`, { method: "DELETE", headers: { Cookie: admin } });
    // As if the unbinding had been lost: the user is bound to the deleted conversation again.
    await runInDurableObject(env.WORKSPACE.get(env.WORKSPACE.idFromName("demo")), (_o, state) => {
      state.storage.sql.exec(
        "INSERT OR REPLACE INTO verified_users (user_id, visitor_id, conversation_id) VALUES (?, ?, ?)",
        userId,
        first.visitorId,
        first.conversationId,
      );
    });
    const next = await logIn(undefined, userId);
    expect(next.conversationId).not.toBe(first.conversationId);
    expect((await logIn(undefined, userId)).conversationId).toBe(next.conversationId);
  });
});
