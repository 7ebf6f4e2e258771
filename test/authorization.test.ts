import { describe, expect, it } from "vitest";
import {
  fetchApp,
  json,
  newVisitorSession,
  say,
  signInAdmin,
  upgradeRaw,
  visitorSocket,
  visitorTicket,
} from "./helpers";

describe("authorization", () => {
  it("every operator route refuses anonymous requests with 401", async () => {
    const session = await newVisitorSession();
    const id = session.conversationId;
    const routes: [string, string][] = [
      ["GET", "/api/auth/me"],
      ["GET", "/api/operators"],
      ["POST", "/api/operators"],
      ["DELETE", `/api/operators/${id}`],
      ["GET", "/api/conversations"],
      ["GET", `/api/conversations/${id}`],
      ["GET", `/api/conversations/${id}/messages`],
      ["POST", `/api/conversations/${id}/join`],
      ["POST", `/api/conversations/${id}/leave`],
    ];
    for (const [method, path] of routes) {
      const res = await fetchApp(path, {
        method,
        headers: { Cookie: "mc_session=forged-session-token-000000000000000000000" },
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
  });

  it("operator sockets need a session; panel sockets too", async () => {
    const session = await newVisitorSession();
    expect((await upgradeRaw(`/ws/conversations/${session.conversationId}`)).status).toBe(401);
    expect((await upgradeRaw("/ws/panel")).status).toBe(401);
  });

  it("a visitor token is not an operator session, and a visitor socket needs a valid ticket", async () => {
    const session = await newVisitorSession();
    const asVisitor = await fetchApp(`/api/conversations/${session.conversationId}`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    expect(asVisitor.status).toBe(401);
    expect((await upgradeRaw("/ws/visitor")).status).toBe(401);
    expect((await upgradeRaw("/ws/visitor?ticket=garbage")).status).toBe(401);
    // A visitor token is not a ticket.
    expect((await upgradeRaw(`/ws/visitor?ticket=${encodeURIComponent(session.token)}`)).status).toBe(401);
  });

  it("a socket ticket is single-use", async () => {
    const session = await newVisitorSession();
    const ticket = await visitorTicket(session);
    const first = await upgradeRaw(`/ws/visitor?ticket=${encodeURIComponent(ticket)}`);
    expect(first.status).toBe(101);
    first.webSocket?.accept();
    const replay = await upgradeRaw(`/ws/visitor?ticket=${encodeURIComponent(ticket)}`);
    expect(replay.status).toBe(403);
    first.webSocket?.close();
  });

  it("a tampered visitor token is refused; a visitor only ever reaches their own conversation", async () => {
    const alice = await newVisitorSession();
    const mallory = await newVisitorSession();
    const a = await visitorSocket(alice);
    await a.next("welcome");
    await say(a, "alice's secret");
    a.close();

    // Mallory swaps Alice's conversation id into her own token's payload: the signature breaks.
    const [body, sig] = mallory.token.split(".") as [string, string];
    const payload = JSON.parse(atob(body.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, string>;
    payload.c = alice.conversationId;
    const forgedBody = btoa(JSON.stringify(payload)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const forged = await fetchApp("/api/visitor/ticket", {
      method: "POST",
      headers: { Authorization: `Bearer ${forgedBody}.${sig}` },
    });
    expect(forged.status).toBe(401);
    const history = await fetchApp("/api/visitor/messages", {
      headers: { Authorization: `Bearer ${forgedBody}.${sig}` },
    });
    expect(history.status).toBe(401);

    // Mallory's own token shows only her own (empty) conversation.
    const own = await fetchApp("/api/visitor/messages", { headers: { Authorization: `Bearer ${mallory.token}` } });
    expect(own.status).toBe(200);
    expect(JSON.stringify(await own.json())).not.toContain("alice's secret");
    const m = await visitorSocket(mallory);
    const welcome = await m.next("welcome");
    expect(welcome.messages).toEqual([]);
    m.close();
  });

  it("unknown conversation ids are 404 for operators", async () => {
    const admin = await signInAdmin();
    for (const id of ["AAAAAAAAAAAAAAAAAAAAAA", "not-an-id", "..%2F..%2Fetc"]) {
      expect((await fetchApp(`/api/conversations/${id}`, { headers: { Cookie: admin } })).status, id).toBe(404);
      expect(
        (await fetchApp(`/api/conversations/${id}/join`, { method: "POST", headers: { Cookie: admin } })).status,
        id,
      ).toBe(404);
    }
    expect((await upgradeRaw("/ws/conversations/AAAAAAAAAAAAAAAAAAAAAA", { Cookie: admin })).status).toBe(404);
    expect((await fetchApp("/api/nope")).status).toBe(404);
  });

  it("an unknown site key gets no visitor session", async () => {
    const res = await fetchApp("/api/visitor/session", json({ siteKey: "someone-else" }));
    expect(res.status).toBe(404);
  });

  it("WebSocket upgrades from a foreign Origin are refused", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const ticket = await visitorTicket(session);
    expect(
      (await upgradeRaw(`/ws/visitor?ticket=${encodeURIComponent(ticket)}`, { Origin: "https://evil.example" })).status,
    ).toBe(403);
    expect((await upgradeRaw("/ws/panel", { Cookie: admin, Origin: "https://evil.example" })).status).toBe(403);
  });

  it("state-changing requests from another site are refused (CSRF)", async () => {
    const admin = await signInAdmin();
    const res = await fetchApp(
      "/api/operators",
      json(
        { name: "Eve", email: "eve@example.com", password: "eve password 1" },
        { Cookie: admin, Origin: "https://evil.example" },
      ),
    );
    expect(res.status).toBe(403);
    const fetchSite = await fetchApp("/api/auth/logout", {
      method: "POST",
      headers: { Cookie: admin, "Sec-Fetch-Site": "cross-site" },
    });
    expect(fetchSite.status).toBe(403);
  });
});
