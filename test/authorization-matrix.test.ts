/**
 * Every HTTP route and socket type, tried as anonymous, as another visitor,
 * as an operator and as an admin: only the intended callers succeed.
 */
import { describe, expect, it } from "vitest";
import {
  fetchApp,
  newOperator,
  newVisitorSession,
  say,
  signInAdmin,
  upgradeRaw,
  visitorSocket,
  visitorTicket,
} from "./helpers";

type Who = "anonymous" | "otherVisitor" | "operator" | "admin";
type Case = { method: string; path: string; body?: unknown; allowed: Who[]; ok?: number[] };

describe("authorization matrix", () => {
  it("only the intended callers reach each route", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const owner = await newVisitorSession();
    const other = await newVisitorSession();
    const v = await visitorSocket(owner);
    await v.next("welcome");
    await say(v, "hello");
    v.close();
    const id = owner.conversationId;

    const headers: Record<Who, Record<string, string>> = {
      anonymous: {},
      otherVisitor: { Authorization: `Bearer ${other.token}` },
      operator: { Cookie: bob.cookie },
      admin: { Cookie: admin },
    };
    const ops: Who[] = ["operator", "admin"];
    const cases: Case[] = [
      { method: "GET", path: "/api/auth/me", allowed: ops },
      { method: "GET", path: "/api/operators", allowed: ops },
      {
        method: "POST",
        path: "/api/operators",
        body: { name: "X", email: `x${Date.now()}@e.org`, password: "0123456789ab" },
        allowed: ["admin"],
      },
      { method: "GET", path: "/api/settings", allowed: ops },
      { method: "PUT", path: "/api/settings", body: { emailName: "Acme" }, allowed: ["admin"] },
      { method: "POST", path: "/api/erasure", body: { email: "nobody@example.org" }, allowed: ["admin"] },
      { method: "GET", path: "/api/audit", allowed: ["admin"] },
      { method: "GET", path: "/api/v1/audit", allowed: ["admin"] },
      { method: "GET", path: "/api/reports/operators", allowed: ops },
      { method: "GET", path: "/api/reports/operators.csv", allowed: ops },
      { method: "GET", path: "/api/conversations", allowed: ops },
      { method: "GET", path: `/api/conversations/${id}`, allowed: ops },
      { method: "GET", path: `/api/conversations/${id}/messages`, allowed: ops },
      { method: "GET", path: `/api/conversations/${id}/visitor`, allowed: ops },
      { method: "GET", path: `/api/conversations/${id}/threads`, allowed: ops },
      { method: "PATCH", path: `/api/conversations/${id}/visitor`, body: { name: "Owner" }, allowed: ops },
      { method: "PUT", path: "/api/operators/me/status", body: { status: "online" }, allowed: ops },
      { method: "GET", path: "/api/v1/conversations", allowed: ops },
      { method: "GET", path: "/api/v1/operators", allowed: ops },
      { method: "GET", path: "/api/v1/tokens", allowed: ["admin"] },
      { method: "GET", path: "/api/v1/webhooks", allowed: ["admin"] },
      // The visitor routes act on the caller's own conversation only: another visitor sees their own (empty) one.
      { method: "GET", path: "/api/visitor/messages", allowed: ["otherVisitor"] },
      { method: "POST", path: "/api/visitor/ticket", allowed: ["otherVisitor"] },
    ];
    for (const c of cases) {
      for (const who of ["anonymous", "otherVisitor", "operator", "admin"] as Who[]) {
        const init: RequestInit = { method: c.method, headers: { ...headers[who] } };
        if (c.body !== undefined) {
          init.body = JSON.stringify(c.body);
          (init.headers as Record<string, string>)["Content-Type"] = "application/json";
        }
        const res = await fetchApp(c.path, init);
        const label = `${c.method} ${c.path} as ${who} → ${res.status}`;
        if (c.allowed.includes(who)) expect(res.status, label).toBeLessThan(300);
        else expect([401, 403], label).toContain(res.status);
        await res.body?.cancel();
      }
    }
    // The other visitor's history really is theirs, not the owner's.
    const theirs = await fetchApp("/api/visitor/messages", { headers: headers.otherVisitor });
    expect(JSON.stringify(await theirs.json())).not.toContain("hello");

    // Sockets: the panel and conversation sockets need a session; a visitor socket needs a ticket.
    for (const who of ["anonymous", "otherVisitor"] as Who[]) {
      expect((await upgradeRaw("/ws/panel", headers[who])).status).toBe(401);
      expect((await upgradeRaw(`/ws/conversations/${id}`, headers[who])).status).toBe(401);
    }
    for (const who of ["operator", "admin"] as Who[]) {
      const panel = await upgradeRaw("/ws/panel", headers[who]);
      expect(panel.status).toBe(101);
      panel.webSocket?.accept();
      panel.webSocket?.close();
      const conv = await upgradeRaw(`/ws/conversations/${id}`, headers[who]);
      expect(conv.status).toBe(101);
      conv.webSocket?.accept();
      conv.webSocket?.close();
    }
    expect((await upgradeRaw("/ws/visitor")).status).toBe(401);
    // A ticket opens only its own visitor's conversation.
    const ticket = await visitorTicket(other);
    const sock = await upgradeRaw(`/ws/visitor?ticket=${encodeURIComponent(ticket)}`);
    expect(sock.status).toBe(101);
    sock.webSocket!.accept();
    const first = await new Promise<string>((resolve) => {
      sock.webSocket!.addEventListener("message", (e) => resolve(e.data as string));
      sock.webSocket!.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
    });
    expect(first).not.toContain('hello"');
    expect(JSON.parse(first).state.id).toBe(other.conversationId);
    sock.webSocket!.close();
  });
});
