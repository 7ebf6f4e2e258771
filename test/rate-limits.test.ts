import { describe, expect, it } from "vitest";
import { fetchApp, json, newVisitorSession, say, visitorSocket } from "./helpers";

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

  it("new conversations and uploads are limited per IP with a clear 429", async () => {
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

  it("API responses are not cached or sniffed", async () => {
    const s = await newVisitorSession();
    const res = await fetchApp("/api/visitor/messages", { headers: { Authorization: `Bearer ${s.token}` } });
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });
});
