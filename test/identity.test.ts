import { describe, expect, it } from "vitest";
import type { VisitorSession } from "../worker/protocol";
import { fetchApp, newVisitorSession, say, signInAdmin, visitorSocket } from "./helpers";

async function hash(userId: string, secret = "test-identity-secret"): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(userId)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function identify(body: Record<string, unknown>): Promise<Response> {
  return fetchApp("/api/visitor/identify", {
    method: "POST",
    headers: { "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site" },
    body: JSON.stringify({ siteKey: "demo", ...body }),
  });
}

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

  it("bad input is refused", async () => {
    expect((await identify({ user: {} })).status).toBe(400);
    expect((await identify({ siteKey: "other", user: { id: "x" } })).status).toBe(404);
  });
});
