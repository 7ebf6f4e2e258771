import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { VisitorSession } from "../worker/protocol";
import { fetchApp, identify, identityHash, newVisitorSession, say, signInAdmin, visitorSocket } from "./helpers";

const hash = identityHash;

describe("identity verification (Microchat.setUser)", () => {
  it("a verified user gets the same conversation on another device", async () => {
    const userId = `user-${Date.now()}`;
    const laptop = await newVisitorSession();
    const a = await identify({
      token: laptop.token,
      user: { id: userId, name: "Kari", email: "kari@example.org", hash: await hash(userId) },
    });
    expect(a.status).toBe(200);
    const first = (await a.json()) as VisitorSession & { verified: boolean };
    expect(first).toMatchObject({ verified: true, conversationId: laptop.conversationId });
    const v = await visitorSocket(first);
    const welcome = await v.next("welcome");
    expect(welcome.state.visitor).toMatchObject({ name: "Kari", email: "kari@example.org", verified: true });
    await say(v, "written on the laptop");
    v.close();

    // The phone starts with a fresh anonymous session, then logs in.
    const phone = await newVisitorSession();
    const b = (await (
      await identify({ token: phone.token, user: { id: userId, hash: await hash(userId) } })
    ).json()) as VisitorSession & {
      verified: boolean;
    };
    expect(b.conversationId).toBe(laptop.conversationId);
    const onPhone = await visitorSocket(b);
    expect((await onPhone.next("welcome")).messages.map((m) => m.text)).toEqual(["written on the laptop"]);
    onPhone.close();
  });

  it("without a valid hash nobody can impersonate a user; the details show as unverified", async () => {
    const userId = `victim-${Date.now()}`;
    const victim = await newVisitorSession();
    await identify({ token: victim.token, user: { id: userId, hash: await hash(userId) } });

    const attacker = await newVisitorSession();
    for (const bad of [undefined, "00".repeat(32), await hash(userId, "guessed secret"), "not hex"]) {
      const res = await identify({
        token: attacker.token,
        user: { id: userId, name: "Victim", email: "victim@example.org", hash: bad },
      });
      expect(res.status).toBe(200);
      const got = (await res.json()) as VisitorSession & { verified: boolean };
      expect(got.verified).toBe(false);
      expect(got.conversationId).toBe(attacker.conversationId);
    }
    const v = await visitorSocket(attacker);
    const welcome = await v.next("welcome");
    expect(welcome.state.visitor).toMatchObject({ name: "Victim", verified: false });
    await say(v, "hi");
    v.close();
    const admin = await signInAdmin();
    const state = await fetchApp(`/api/conversations/${attacker.conversationId}`, { headers: { Cookie: admin } });
    expect(((await state.json()) as { state: { visitor: { verified: boolean } } }).state.visitor.verified).toBe(false);
  });

  it("a verified visitor who edits their name or email in the widget is no longer shown as verified", async () => {
    const admin = await signInAdmin();
    const userId = `kari-${crypto.randomUUID()}`;
    const session = (await (
      await identify({
        token: (await newVisitorSession()).token,
        user: { id: userId, name: "Kari", email: "kari@example.org", hash: await hash(userId) },
      })
    ).json()) as VisitorSession;
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    const shown = async () => {
      const res = await fetchApp(`/api/conversations/${session.conversationId}`, { headers: { Cookie: admin } });
      return ((await res.json()) as { state: { visitor: { name: string; email: string; verified?: boolean } } }).state
        .visitor;
    };

    // The same name and email again (the widget's card resent): still verified.
    v.send({ type: "profile", name: "Kari", email: "kari@example.org" });
    await v.roundTrip();
    expect(await shown()).toMatchObject({ name: "Kari", email: "kari@example.org", verified: true });

    // Someone else's name and email: kept as the visitor typed them, but never under the Verified badge.
    v.send({ type: "profile", name: "Ola Ceo", email: "ceo@example.org" });
    await v.until("state", (f) => f.state.visitor.name === "Ola Ceo");
    expect(await shown()).toMatchObject({ name: "Ola Ceo", email: "ceo@example.org", verified: false });

    // The site vouching for the user again with their name only: the typed address is still not vouched for.
    await identify({ token: session.token, user: { id: userId, name: "Kari", hash: await hash(userId) } });
    expect(await shown()).toMatchObject({ name: "Kari", email: "ceo@example.org", verified: false });
    // With both, what is shown is what the site vouched for again.
    await identify({
      token: session.token,
      user: { id: userId, name: "Kari", email: "kari@example.org", hash: await hash(userId) },
    });
    expect(await shown()).toMatchObject({ name: "Kari", email: "kari@example.org", verified: true });

    // A conversation verified before the vouched details were kept apart keeps its badge.
    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("DELETE FROM meta WHERE key IN ('verified_name', 'verified_email')");
      state.storage.sql.exec("DELETE FROM _migrations WHERE id >= 7");
    });
    await evictDurableObject(stub);
    expect(await shown(), "after the migration").toMatchObject({ name: "Kari", verified: true });
    v.close();
  });

  it("bad input is refused", async () => {
    expect((await identify({ user: {} })).status).toBe(400);
    expect((await identify({ siteKey: "other", user: { id: "x" } })).status).toBe(404);
  });
});
