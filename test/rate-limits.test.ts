import { describe, expect, it } from "vitest";
import { ADMIN, fetchApp, join, json, newVisitorSession, say, signInAdmin, visitorSocket } from "./helpers";

describe("rate limits", () => {
  it("a visitor sending too fast gets rate_limited errors, nothing is stored twice, and resending later succeeds", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    for (let i = 0; i < 20; i++) await say(v, `burst ${i}`, `burst-${i}`);
    v.send({ type: "send", clientId: "one-too-many", text: "too fast" });
    const err = await v.next("error");
    expect(err).toMatchObject({ code: "rate_limited", clientId: "one-too-many" });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, (err.retryAfterMs ?? 1000) + 50));
    const ok = await say(v, "too fast", "one-too-many");
    expect(ok.seq).toBe(21);
    v.close();
  });

  it("new conversations are limited per IP with a clear 429", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
    let limited: Response | null = null;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await fetchApp("/api/visitor/session", json({ siteKey: "demo" }, { "CF-Connecting-IP": ip }));
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(201);
    }
    expect(limited).not.toBeNull();
    expect(limited!.headers.get("Retry-After")).toBe("60");
    expect(await limited!.json()).toMatchObject({ error: { code: "rate_limited" } });
    // Another network is not affected.
    expect(
      (await fetchApp("/api/visitor/session", json({ siteKey: "demo" }, { "CF-Connecting-IP": "192.0.2.9" }))).status,
    ).toBe(201);
  });

  it("sign-ins are limited per IP before the password is checked, with a clear 429; another network is not", async () => {
    await signInAdmin(); // the workspace is set up
    const login = (ip: string) =>
      fetchApp("/api/auth/login", json({ email: ADMIN.email, password: ADMIN.password }, { "CF-Connecting-IP": ip }));
    const ip = `198.19.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
    // Correct passwords, so the Workspace's throttle of failures never counts: only the per-IP limit (30 a minute) can refuse.
    let limited: Response | null = null;
    let ok = 0;
    for (let i = 0; i < 70 && !limited; i++) {
      const res = await login(ip);
      if (res.status === 429) limited = res;
      else {
        expect(res.status, await res.clone().text()).toBe(200);
        ok++;
      }
    }
    expect(limited, `no 429 after ${ok} sign-ins from one IP`).not.toBeNull();
    expect(ok).toBeGreaterThanOrEqual(30);
    expect(limited!.headers.get("Retry-After")).toBe("60");
    expect(await limited!.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect(limited!.headers.get("Set-Cookie"), "a refused sign-in gets no session").toBeNull();
    expect((await login("192.0.2.77")).status).toBe(200);
    // Setup counts against the same limit (refused before it looks at the body).
    const setup = await fetchApp("/api/setup", json({}, { "CF-Connecting-IP": ip }));
    expect(setup.status).toBe(429);
  });

  it("uploads are limited per IP with a clear 429, on the visitor's route and the operator's; another network is not", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");
    const admin = await signInAdmin();
    expect((await join(admin, session.conversationId)).status).toBe(200);
    const routes = {
      visitor: ["/api/visitor/files", { Authorization: `Bearer ${session.token}` }],
      operator: [`/api/conversations/${session.conversationId}/files`, { Cookie: admin }],
    } as const;
    const upload = (route: keyof typeof routes, ip: string) => {
      const body = new FormData();
      body.set("file", new File([new TextEncoder().encode("%PDF-1.4\n%%EOF\n")], "a.pdf", { type: "application/pdf" }));
      body.set("clientId", crypto.randomUUID());
      const [path, auth] = routes[route];
      return fetchApp(path, { method: "POST", headers: { ...auth, "CF-Connecting-IP": ip }, body });
    };
    for (const route of ["visitor", "operator"] as const) {
      const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
      // 30 a minute: within 70 tries the limit is met even if a minute turns over once.
      let limited: Response | null = null;
      for (let i = 0; i < 70 && !limited; i++) {
        const res = await upload(route, ip);
        if (res.status === 429) limited = res;
        else expect(res.status, await res.text()).toBe(201);
      }
      expect(limited, `the ${route}'s uploads from one network were never limited`).not.toBeNull();
      expect(limited!.headers.get("Retry-After")).toBe("60");
      expect(await limited!.json()).toMatchObject({
        error: { code: "rate_limited", message: "Too many uploads from your network; try again in a minute" },
      });
    }
    expect((await upload("visitor", "192.0.2.77")).status, "another network uploads").toBe(201);
    v.close();
  }, 180_000); // up to 140 uploads: a budget for a loaded machine, not a wait

  it("setUser without a session cannot open conversations past the per-IP limit: 70 identify calls are limited", async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    const windowOf = (t: number) => Math.floor(t / 60_000);
    const started = Date.now();
    const conversations = new Set<string>();
    const refusals: Response[] = [];
    for (let i = 0; i < 70; i++) {
      const res = await fetchApp(
        "/api/visitor/identify",
        json({ siteKey: "demo", user: { id: `user-${i}`, name: `User ${i}` } }, { "CF-Connecting-IP": ip }),
      );
      if (res.status === 429) refusals.push(res);
      else {
        expect(res.status, await res.clone().text()).toBe(200);
        conversations.add(((await res.json()) as { conversationId: string }).conversationId);
      }
    }
    const windows = windowOf(Date.now()) - windowOf(started) + 1;
    // 30 a minute per IP, shared with /api/visitor/session (one limiter window, or two if the run straddled a minute).
    expect(conversations.size, `conversations opened over ${windows} limiter window(s)`).toBeLessThanOrEqual(
      30 * windows,
    );
    expect(refusals.length).toBeGreaterThan(0);
    const refused = refusals[0]!;
    expect(refused.headers.get("Retry-After")).toBe("60");
    // The loader reads the refusal cross-site.
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await refused.json()).toMatchObject({
      error: { code: "rate_limited", message: "Too many new conversations from your network; try again in a minute" },
    });
    // The session limit is the same budget: this network can open no conversation that way either, in that window.
    if (windows === 1) {
      expect(
        (await fetchApp("/api/visitor/session", json({ siteKey: "demo" }, { "CF-Connecting-IP": ip }))).status,
      ).toBe(429);
    }
  });

  it("setUser with the visitor's own session opens nothing new and is not counted", async () => {
    const ip = `192.0.2.${Math.floor(Math.random() * 200) + 1}`;
    const res = await fetchApp("/api/visitor/session", json({ siteKey: "demo" }, { "CF-Connecting-IP": ip }));
    const session = (await res.json()) as { token: string; conversationId: string };
    for (let i = 0; i < 40; i++) {
      const again = await fetchApp(
        "/api/visitor/identify",
        json(
          { siteKey: "demo", token: session.token, user: { id: "same-user", name: "Sam" } },
          { "CF-Connecting-IP": ip },
        ),
      );
      expect(again.status, `call ${i}: ${await again.clone().text()}`).toBe(200);
      expect(((await again.json()) as { conversationId: string }).conversationId).toBe(session.conversationId);
    }
  });

  it("API responses are not cached or sniffed", async () => {
    const s = await newVisitorSession();
    const res = await fetchApp("/api/visitor/messages", { headers: { Authorization: `Bearer ${s.token}` } });
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });
});
