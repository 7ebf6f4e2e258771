import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseUserAgent } from "../worker/lib/client";
import type { VisitorInfo, VisitorSession } from "../worker/protocol";
import { ORIGIN, fetchApp, newVisitorSession, say, signInAdmin, visitorSocket } from "./helpers";

const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const CF = {
  country: "NO",
  region: "Oslo",
  city: "Oslo",
  latitude: "59.91273",
  longitude: "10.74609",
  timezone: "Europe/Oslo",
};

let n = 0;
const viewId = () => `view${String(Date.now()).slice(-8)}${String(n++).padStart(6, "0")}`.padEnd(22, "x").slice(0, 22);

/** The loader's beacon: text/plain JSON, cross-site, with Cloudflare's cf geolocation on the request. */
function beacon(session: VisitorSession, views: unknown[], extra: Record<string, unknown> = {}) {
  return exports.default.fetch(
    new Request(`${ORIGIN}/api/visitor/pageviews`, {
      method: "POST",
      headers: {
        "Content-Type": "text/plain;charset=UTF-8",
        "Sec-Fetch-Site": "cross-site",
        Origin: "https://shop.example",
        "CF-Connecting-IP": "203.0.113.7",
        "User-Agent": CHROME,
      },
      body: JSON.stringify({ token: session.token, views, ...extra }),
      cf: CF,
    } as RequestInit),
  );
}

async function info(cookie: string, id: string): Promise<VisitorInfo> {
  const res = await fetchApp(`/api/conversations/${id}/visitor`, { headers: { Cookie: cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { visitor: VisitorInfo }).visitor;
}

describe("visitor information", () => {
  it("captures location from cf, the IP, the browser and OS, and page views newest first", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const t0 = Date.now() - 60_000;
    const home = viewId();
    const res = await beacon(session, [{ id: home, url: "https://shop.example/", title: "Home", at: t0 }], {
      referrer: "https://search.example/?q=plants",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    // Next page: the batch reports the time spent on the first page and the new view.
    const pricing = viewId();
    await beacon(session, [
      { id: home, url: "https://shop.example/", title: "Home", at: t0, ms: 42_000 },
      { id: pricing, url: "https://shop.example/pricing", title: "Pricing", at: t0 + 42_000 },
    ]);
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hello");

    const visitor = await info(admin, session.conversationId);
    expect(visitor.location).toEqual({
      country: "NO",
      region: "Oslo",
      city: "Oslo",
      latitude: 59.91273,
      longitude: 10.74609,
      timezone: "Europe/Oslo",
    });
    expect(visitor.ip).toBe("203.0.113.7");
    expect(visitor.browser).toEqual({ name: "Chrome", version: "131.0.0.0" });
    expect(visitor.os).toEqual({ name: "Windows", version: "10" });
    expect(visitor.device).toBe("desktop");
    expect(visitor.online).toBe(true);
    expect(visitor.referrer).toBe("https://search.example/?q=plants");
    expect(visitor.pages.count).toBe(2);
    expect(visitor.pages.items.map((p) => [p.title, p.ms])).toEqual([
      ["Pricing", null],
      ["Home", 42_000],
    ]);
    expect(visitor.web).toBe(true);
    expect(visitor.mail).toBeNull();
    v.close();
  });

  it("parses real User-Agent strings: Chrome, Firefox, Safari on iOS, Edge and a bot", () => {
    expect(parseUserAgent(CHROME)).toMatchObject({
      browser: { name: "Chrome" },
      os: { name: "Windows" },
      device: "desktop",
    });
    expect(parseUserAgent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")).toMatchObject({
      browser: { name: "Firefox", version: "133.0" },
      os: { name: "Linux" },
    });
    expect(
      parseUserAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
      ),
    ).toMatchObject({
      browser: { name: "Safari", version: "18.1" },
      os: { name: "iOS", version: "18.1" },
      device: "mobile",
    });
    expect(parseUserAgent(`${CHROME} Edg/131.0.2903.70`)).toMatchObject({
      browser: { name: "Microsoft Edge", version: "131.0.2903.70" },
    });
    expect(parseUserAgent("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")).toMatchObject({
      bot: true,
      device: "bot",
    });
    expect(parseUserAgent(null)).toEqual({ browser: null, os: null, device: null, bot: false });
  });

  it("parses the rest of the browsers and systems a support team meets", () => {
    const cases: [string, Partial<ReturnType<typeof parseUserAgent>>][] = [
      [
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        {
          browser: { name: "Samsung Internet", version: "25.0" },
          os: { name: "Android", version: "14" },
          device: "mobile",
        },
      ],
      [
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        { browser: { name: "Chrome", version: "131.0.0.0" }, os: { name: "Android", version: "13" }, device: "tablet" },
      ],
      [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0",
        { browser: { name: "Opera", version: "116.0.0.0" }, os: { name: "Windows", version: "10" }, device: "desktop" },
      ],
      [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
        { browser: { name: "Firefox", version: "133.0" }, os: { name: "iOS", version: "17.6" }, device: "mobile" },
      ],
      [
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        { browser: { name: "Safari", version: "17.5" }, os: { name: "iOS", version: "17.5" }, device: "tablet" },
      ],
      [
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        { browser: { name: "Safari", version: "18.1" }, os: { name: "macOS", version: "10.15.7" }, device: "desktop" },
      ],
      [
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        {
          browser: { name: "Chrome", version: "131.0.0.0" },
          os: { name: "Chrome OS", version: null },
          device: "desktop",
        },
      ],
      [
        "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
        { browser: { name: "Samsung Internet", version: "4.0" }, device: "tv" },
      ],
      ["Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", { bot: true, device: "bot" }],
      [
        "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
        { browser: { name: "Internet Explorer", version: "11.0" }, os: { name: "Windows", version: "7" } },
      ],
      [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
        {
          browser: { name: "Chrome", version: "156.0.0.0" },
          os: { name: "Linux", version: null },
          device: "desktop",
          bot: false,
        },
      ],
      ["curl/8.5.0", { browser: null, os: null, device: null, bot: false }],
    ];
    for (const [ua, want] of cases) expect(parseUserAgent(ua), ua).toMatchObject(want);
    // Hostile strings of the longest length stored are parsed in one pass each (nothing to backtrack over).
    for (const hostile of [
      "a".repeat(512),
      "bot".repeat(170),
      `iPhone${" (".repeat(250)}`,
      `Version/1${" ".repeat(500)}`,
    ]) {
      expect(parseUserAgent(hostile).browser).toBeNull();
    }
  });

  it("a visitor cannot read anyone's info, and page views only land in the sender's own conversation", async () => {
    const alice = await newVisitorSession();
    const mallory = await newVisitorSession();
    const asVisitor = await fetchApp(`/api/conversations/${alice.conversationId}/visitor`, {
      headers: { Authorization: `Bearer ${alice.token}` },
    });
    expect(asVisitor.status).toBe(401);
    expect(
      (
        await beacon({ ...mallory, token: "forged.token" }, [
          { id: viewId(), url: "https://x.example/", title: "x", at: 1 },
        ])
      ).status,
    ).toBe(401);
    await beacon(mallory, [{ id: viewId(), url: "https://shop.example/mallory", title: "M", at: Date.now() }]);
    const admin = await signInAdmin();
    const a = await visitorSocket(alice);
    await a.next("welcome");
    await say(a, "hi");
    expect((await info(admin, alice.conversationId)).pages.count).toBe(0);
    a.close();
  });

  it("bad page views are refused with a clear error", async () => {
    const s = await newVisitorSession();
    for (const views of [
      [],
      [{ id: "short", url: "https://x.example", title: "", at: 1 }],
      [{ id: viewId(), url: "javascript:alert(1)", title: "", at: 1 }],
      Array(21).fill({}),
    ]) {
      const res = await beacon(s, views);
      expect(res.status, JSON.stringify(views).slice(0, 60)).toBe(400);
    }
  });

  it("operators correct the visitor's name and email; bad input is refused", async () => {
    const admin = await signInAdmin();
    const s = await newVisitorSession();
    const v = await visitorSocket(s);
    await v.next("welcome");
    await say(v, "hi");
    const patch = (body: unknown) =>
      fetchApp(`/api/conversations/${s.conversationId}/visitor`, {
        method: "PATCH",
        headers: { Cookie: admin, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = await patch({ name: "Nora", email: "nora@example.org" });
    expect(((await ok.json()) as { visitor: VisitorInfo }).visitor).toMatchObject({
      name: "Nora",
      email: "nora@example.org",
    });
    const state = await v.until("state", (f) => f.state.visitor.name === "Nora");
    expect(state.state.visitor.email).toBe("nora@example.org");
    expect((await patch({ email: "not-an-email" })).status).toBe(400);
    expect((await patch({ ip: "1.2.3.4" })).status).toBe(400);
    v.close();
  });
});
