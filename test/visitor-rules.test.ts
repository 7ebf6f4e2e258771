/**
 * The visitor's rules (worker/conversation/visitor.ts), called on the module
 * directly inside a real Conversation object, its index reports going to a
 * real workspace object of the test's own, with the clock set by the test:
 * whose name and email win (the site's, vouched for or not, the visitor's
 * own, an operator's correction) and how soon each is reported; what a
 * request tells of where the visitor came from; page views (kept by id,
 * the newest PAGE_VIEWS_KEPT, the count exact); and what the panel is shown.
 * Only what needs a socket (online, the state frames) goes through the real
 * routes. (`visitor-info.test.ts` and `identity.test.ts` drive the same
 * rules through the routes.)
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConversationContext } from "../worker/conversation/context";
import { receiveEmail } from "../worker/conversation/email-channel";
import { append } from "../worker/conversation/log";
import { conversationState } from "../worker/conversation/state";
import {
  correctVisitor,
  noteClient,
  recordPageViews,
  setProfile,
  setSiteIdentity,
  visitorInfo,
} from "../worker/conversation/visitor";
import type { ClientInfo } from "../worker/lib/client";
import type { EmailMeta, GeoLocation, PageView, VisitorInfo } from "../worker/protocol";
import { conversationObject, newVisitorSession, ownConversation, visitorSocket } from "./helpers";

/** Far ahead of the real clock: no alarm armed here comes due while a test runs. */
const T0 = 4_000_000_000_000;
const PAGE_VIEWS_KEPT = 1000;
const VISITOR_ID = "visitor-1";
const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const OSLO: GeoLocation = {
  country: "NO",
  region: "Oslo",
  city: "Oslo",
  latitude: 59.91273,
  longitude: 10.74609,
  timezone: "Europe/Oslo",
};
const NO_CLIENT: ClientInfo = { ip: null, userAgent: null, geo: null };

const realNow = Date.now.bind(Date);
let now = T0;
beforeEach(() => {
  now = T0;
  vi.spyOn(Date, "now").mockImplementation(() => now);
});
afterEach(() => vi.restoreAllMocks());

/** A conversation object of its own (its visitor VISITOR_ID), reporting to a workspace object of its own. */
function fresh() {
  const base = ownConversation("visitor-rules", VISITOR_ID);
  return {
    ...base,
    /** The visitor as the workspace's index holds them, or null before any report. */
    indexed() {
      return base.wsSql(
        (sql) =>
          sql
            .exec<{ visitor_name: string | null; visitor_email: string | null }>(
              "SELECT visitor_name, visitor_email FROM conversations WHERE id = ?",
              base.id,
            )
            .toArray()[0] ?? null,
      );
    },
  };
}

/** The stored meta rows among `keys` (absent keys left out). */
function metaRows(c: ConversationContext, keys: string[]): Record<string, string> {
  const rows = c.sql
    .exec<{ key: string; value: string }>(
      `SELECT key, value FROM meta WHERE key IN (${keys.map(() => "?").join(", ")}) ORDER BY key`,
      ...keys,
    )
    .toArray();
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

const IDENTITY = ["identity_verified", "verified_email", "verified_name", "visitor_email", "visitor_name"];
const CLIENT = ["geo", "ip", "last_seen", "user_agent"];

/**
 * How the index hears of the last change: `atOnce` (a report on its way
 * before the call returned), `coalesced` (a report planned on the timer), or
 * `none` (no change counted).
 */
function heard(c: ConversationContext): "atOnce" | "coalesced" | "none" | string {
  const r = c.memory.report;
  if (r.inFlight === 1 && r.timer === null && r.dirty === 1) return "atOnce";
  if (r.inFlight === 0 && r.timer !== null && r.dirty === 1) return "coalesced";
  if (r.inFlight === 0 && r.timer === null && (r.dirty === null || r.dirty === 0)) return "none";
  return JSON.stringify({ dirty: r.dirty, inFlight: r.inFlight, timer: r.timer?.due ?? null });
}

/** Waits (on the real clock) until no report is on its way or planned; fails saying what it saw. */
async function settled(c: ConversationContext): Promise<void> {
  const end = realNow() + 10_000;
  const r = c.memory.report;
  while (r.inFlight > 0 || r.timer !== null) {
    if (realNow() > end) throw new Error(`a report still on its way: ${heard(c)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A page view as the loader reports it. */
const view = (id: string, at: number, more: Partial<PageView> = {}): PageView & { id: string } => ({
  id,
  url: `https://shop.example/${id}`,
  title: `Page ${id}`,
  at,
  ms: null,
  ...more,
});

const pageRows = (c: ConversationContext) =>
  c.sql.exec("SELECT id, url, title, at, ms FROM page_views ORDER BY at, id").toArray();

describe("the site's identity (Microchat.setUser)", () => {
  it("a verified one replaces the name and email shown, is remembered as vouched for, shows the badge, and is reported at once", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      c.meta.visitorName = "Typed Name";
      c.meta.visitorEmail = "typed@example.org";
      setSiteIdentity(c, { name: "Kari Nordmann", email: "kari@example.org", verified: true });
      const result = { heard: heard(c), rows: metaRows(c, IDENTITY), visitor: conversationState(c).visitor };
      await settled(c);
      return result;
    });
    expect(seen.rows).toEqual({
      identity_verified: "1",
      verified_email: "kari@example.org",
      verified_name: "Kari Nordmann",
      visitor_email: "kari@example.org",
      visitor_name: "Kari Nordmann",
    });
    expect(seen.visitor).toEqual({ id: VISITOR_ID, name: "Kari Nordmann", email: "kari@example.org", verified: true });
    expect(seen.heard).toBe("atOnce");
    expect(await f.indexed()).toEqual({ visitor_name: "Kari Nordmann", visitor_email: "kari@example.org" });
  });

  it("an unverified one is shown but not vouched for; another unverified one replaces it", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      setSiteIdentity(c, { name: "Sam", email: "sam@example.org", verified: false });
      const first = { heard: heard(c), rows: metaRows(c, IDENTITY), visitor: conversationState(c).visitor };
      await settled(c);
      setSiteIdentity(c, { name: "Samuel", email: null, verified: false });
      const second = { heard: heard(c), rows: metaRows(c, IDENTITY) };
      await settled(c);
      return { first, second };
    });
    expect(seen.first).toEqual({
      heard: "atOnce",
      rows: { identity_verified: "0", visitor_email: "sam@example.org", visitor_name: "Sam" },
      visitor: { id: VISITOR_ID, name: "Sam", email: "sam@example.org", verified: false },
    });
    expect(seen.second).toEqual({
      heard: "atOnce",
      rows: { identity_verified: "0", visitor_email: "sam@example.org", visitor_name: "Samuel" },
    });
    expect(await f.indexed()).toEqual({ visitor_name: "Samuel", visitor_email: "sam@example.org" });
  });

  it("a verified one is never downgraded: an unverified one after it changes nothing and reports nothing", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      setSiteIdentity(c, { name: "Kari Nordmann", email: "kari@example.org", verified: true });
      await settled(c);
      const before = metaRows(c, IDENTITY);
      setSiteIdentity(c, { name: "Mallory", email: "mallory@evil.example", verified: false });
      const after = { heard: heard(c), rows: metaRows(c, IDENTITY), visitor: conversationState(c).visitor };
      // A verified one after it replaces what it gives, and keeps what it leaves out.
      setSiteIdentity(c, { name: "Kari N.", email: null, verified: true });
      const replaced = { heard: heard(c), rows: metaRows(c, IDENTITY) };
      await settled(c);
      return { before, after, replaced };
    });
    expect(seen.after).toEqual({
      heard: "none",
      rows: seen.before,
      visitor: { id: VISITOR_ID, name: "Kari Nordmann", email: "kari@example.org", verified: true },
    });
    expect(seen.replaced).toEqual({
      heard: "atOnce",
      rows: {
        identity_verified: "1",
        verified_email: "kari@example.org",
        verified_name: "Kari N.",
        visitor_email: "kari@example.org",
        visitor_name: "Kari N.",
      },
    });
    expect(await f.indexed()).toEqual({ visitor_name: "Kari N.", visitor_email: "kari@example.org" });
  });

  it("what the site leaves out (null or empty) keeps what is shown and vouches for nothing of it", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      c.meta.visitorName = "Typed Name";
      setSiteIdentity(c, { name: "", email: "kari@example.org", verified: true });
      const emptyName = { rows: metaRows(c, IDENTITY), visitor: conversationState(c).visitor };
      setSiteIdentity(c, { name: null, email: "", verified: true });
      return { emptyName, nothing: metaRows(c, IDENTITY) };
    });
    expect(seen.emptyName).toEqual({
      rows: {
        identity_verified: "1",
        verified_email: "kari@example.org",
        visitor_email: "kari@example.org",
        visitor_name: "Typed Name",
      },
      // The name shown is not the one vouched for: no badge.
      visitor: { id: VISITOR_ID, name: "Typed Name", email: "kari@example.org", verified: false },
    });
    expect(seen.nothing).toEqual(seen.emptyName.rows);
  });

  it("before the visitor has written, it is stored but not reported", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      setSiteIdentity(c, { name: "Kari", email: "kari@example.org", verified: true });
      return { heard: heard(c), name: c.meta.visitorName };
    });
    expect(seen).toEqual({ heard: "none", name: "Kari" });
    expect(await f.indexed()).toBeNull();
  });
});

describe("the visitor's own profile", () => {
  it("a name or email given is stored as given, even empty; one left out stays; the index hears with the coalesced previews", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      c.meta.visitorName = "Vera";
      c.meta.visitorEmail = "vera@example.org";
      const rows: Record<string, string>[] = [];
      setProfile(c, "Kari", undefined);
      const how = heard(c);
      rows.push(metaRows(c, IDENTITY));
      setProfile(c, undefined, "kari@example.org");
      rows.push(metaRows(c, IDENTITY));
      setProfile(c, "", undefined);
      rows.push(metaRows(c, IDENTITY));
      await settled(c);
      return { how, rows };
    });
    expect(seen.how).toBe("coalesced");
    expect(seen.rows).toEqual([
      { visitor_email: "vera@example.org", visitor_name: "Kari" },
      { visitor_email: "kari@example.org", visitor_name: "Kari" },
      { visitor_email: "kari@example.org", visitor_name: "" },
    ]);
    expect(await f.indexed()).toEqual({ visitor_name: "", visitor_email: "kari@example.org" });
  });

  it("an edit of a vouched-for name keeps what the visitor typed, without the badge; what was vouched for stays", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      setSiteIdentity(c, { name: "Kari Nordmann", email: "kari@example.org", verified: true });
      setProfile(c, "Kari the Great", undefined);
      return { rows: metaRows(c, IDENTITY), visitor: conversationState(c).visitor, heard: heard(c) };
    });
    expect(seen).toEqual({
      rows: {
        identity_verified: "1",
        verified_email: "kari@example.org",
        verified_name: "Kari Nordmann",
        visitor_email: "kari@example.org",
        visitor_name: "Kari the Great",
      },
      visitor: { id: VISITOR_ID, name: "Kari the Great", email: "kari@example.org", verified: false },
      heard: "none", // nobody has written yet
    });
  });
});

describe("an operator's correction", () => {
  it("null clears, a value replaces, what is left out stays; the index hears at once", async () => {
    const f = fresh();
    const seen = await f.in(async (c) => {
      c.meta.started = true;
      c.meta.visitorName = "Vera";
      c.meta.visitorEmail = "vera@example.org";
      correctVisitor(c, { name: null });
      const cleared = { heard: heard(c), rows: metaRows(c, IDENTITY) };
      await settled(c);
      correctVisitor(c, { email: "vera@example.net" });
      const replaced = { heard: heard(c), rows: metaRows(c, IDENTITY) };
      await settled(c);
      correctVisitor(c, { name: "Vera V.", email: null });
      const both = { heard: heard(c), rows: metaRows(c, IDENTITY), info: visitorInfo(c) };
      await settled(c);
      return { cleared, replaced, both };
    });
    expect(seen.cleared).toEqual({ heard: "atOnce", rows: { visitor_email: "vera@example.org" } });
    expect(seen.replaced).toEqual({ heard: "atOnce", rows: { visitor_email: "vera@example.net" } });
    expect(seen.both.heard).toBe("atOnce");
    expect(seen.both.rows).toEqual({ visitor_name: "Vera V." });
    expect([seen.both.info.name, seen.both.info.email]).toEqual(["Vera V.", null]);
    expect(await f.indexed()).toEqual({ visitor_name: "Vera V.", visitor_email: null });
  });
});

describe("where and with what the visitor came", () => {
  it("IP, User-Agent and location are kept as given; a request without them clears nothing; last seen is now", async () => {
    const f = fresh();
    const seen = await f.in((c) => {
      noteClient(c, { ip: "203.0.113.7", userAgent: CHROME, geo: OSLO });
      const first = metaRows(c, CLIENT);
      now = T0 + 5000;
      noteClient(c, NO_CLIENT);
      const bare = metaRows(c, CLIENT);
      now = T0 + 6000;
      noteClient(c, { ip: "198.51.100.9", userAgent: "curl/8.5.0", geo: { ...OSLO, city: "Bergen" } });
      return { first, bare, other: metaRows(c, CLIENT) };
    });
    expect(seen.first).toEqual({
      geo: JSON.stringify(OSLO),
      ip: "203.0.113.7",
      last_seen: String(T0),
      user_agent: CHROME,
    });
    expect(seen.bare).toEqual({ ...seen.first, last_seen: String(T0 + 5000) });
    expect(seen.other).toEqual({
      geo: JSON.stringify({ ...OSLO, city: "Bergen" }),
      ip: "198.51.100.9",
      last_seen: String(T0 + 6000),
      user_agent: "curl/8.5.0",
    });
  });

  it("a location counts only when it names a country or a city", async () => {
    const none: GeoLocation = {
      country: null,
      region: null,
      city: null,
      latitude: null,
      longitude: null,
      timezone: null,
    };
    const seen = await fresh().in((c) => {
      const geoAfter = (geo: GeoLocation | null) => {
        noteClient(c, { ip: null, userAgent: null, geo });
        return c.meta.geo;
      };
      return [
        geoAfter({ ...none, region: "Oslo", latitude: 59.9, longitude: 10.7, timezone: "Europe/Oslo" }),
        geoAfter({ ...none, country: "NO" }),
        geoAfter({ ...none, city: "Bergen" }),
        geoAfter(null),
        geoAfter(none),
      ];
    });
    expect(seen).toEqual([
      null,
      { ...none, country: "NO" },
      { ...none, city: "Bergen" },
      { ...none, city: "Bergen" },
      { ...none, city: "Bergen" },
    ]);
  });
});

describe("page views", () => {
  it("are kept by the loader's id: a later report updates time on page and title, never address or time; an unknown time keeps the known", async () => {
    const seen = await fresh().in((c) => {
      recordPageViews(c, [view("a", T0 - 100), view("b", T0 - 50, { ms: 700 })], null, NO_CLIENT);
      const first = pageRows(c);
      recordPageViews(
        c,
        [view("a", T0 + 1, { url: "https://elsewhere.example/", title: "Renamed", ms: 4200 })],
        null,
        NO_CLIENT,
      );
      const updated = pageRows(c);
      recordPageViews(c, [view("a", T0 + 2, { title: "Renamed again", ms: null })], null, NO_CLIENT);
      return { first, updated, unknown: pageRows(c) };
    });
    const a = { id: "a", url: "https://shop.example/a", title: "Page a", at: T0 - 100, ms: null };
    const b = { id: "b", url: "https://shop.example/b", title: "Page b", at: T0 - 50, ms: 700 };
    expect(seen.first).toEqual([a, b]);
    expect(seen.updated).toEqual([{ ...a, title: "Renamed", ms: 4200 }, b]);
    expect(seen.unknown).toEqual([{ ...a, title: "Renamed again", ms: 4200 }, b]);
  });

  it("the first referrer is kept; later ones, and none, change nothing; the request's client is noted", async () => {
    const seen = await fresh().in((c) => {
      recordPageViews(c, [view("a", T0)], null, NO_CLIENT);
      const none = c.meta.referrer;
      recordPageViews(c, [view("b", T0)], "https://search.example/?q=plants", NO_CLIENT);
      const first = c.meta.referrer;
      now = T0 + 9;
      recordPageViews(c, [view("c", T0)], "https://other.example/", {
        ip: "203.0.113.7",
        userAgent: CHROME,
        geo: OSLO,
      });
      return { none, first, later: c.meta.referrer, client: metaRows(c, CLIENT) };
    });
    expect(seen).toEqual({
      none: null,
      first: "https://search.example/?q=plants",
      later: "https://search.example/?q=plants",
      client: { geo: JSON.stringify(OSLO), ip: "203.0.113.7", last_seen: String(T0 + 9), user_agent: CHROME },
    });
  });

  it("the newest PAGE_VIEWS_KEPT are kept, by time: at the bound none goes; each one over drops the oldest, counted once", async () => {
    const seen = await fresh().in((c) => {
      // Ids in the opposite order of time, so only the time can tell the oldest.
      const batch = Array.from({ length: PAGE_VIEWS_KEPT - 1 }, (_, i) => view(`v${9999 - i}`, T0 + i));
      recordPageViews(c, batch, null, NO_CLIENT);
      const state = () => ({
        stored: c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM page_views").one().n,
        oldest: c.sql.exec<{ id: string }>("SELECT id FROM page_views ORDER BY at LIMIT 1").one().id,
        dropped: metaRows(c, ["page_views_dropped"]),
        count: visitorInfo(c).pages.count,
      });
      const under = state();
      recordPageViews(c, [view("w1", T0 + 5000)], null, NO_CLIENT); // the 1,000th
      const at = state();
      recordPageViews(c, [view("w2", T0 + 5001)], null, NO_CLIENT); // the 1,001st
      const over = state();
      // Three more, one of them older than any kept: it is the first to go.
      recordPageViews(c, [view("w3", T0 + 5002), view("ancient", T0 - 1), view("w4", T0 + 5003)], null, NO_CLIENT);
      const more = state();
      const gone = ["v9999", "v9998", "v9997", "ancient"].filter(
        (id) => c.sql.exec("SELECT 1 FROM page_views WHERE id = ?", id).toArray().length > 0,
      );
      // Time on page for a view dropped already (a tab left open): not stored or counted again; for a kept one, kept.
      recordPageViews(c, [view("v9999", T0, { ms: 4000 }), view("w4", T0 + 5003, { ms: 3000 })], null, NO_CLIENT);
      const late = { ...state(), w4: c.sql.exec("SELECT ms FROM page_views WHERE id = 'w4'").one().ms };
      return { under, at, over, more, gone, late };
    });
    expect(seen.under).toEqual({ stored: 999, oldest: "v9999", dropped: {}, count: 999 });
    expect(seen.at, "exactly PAGE_VIEWS_KEPT: nothing dropped, nothing counted as dropped").toEqual({
      stored: 1000,
      oldest: "v9999",
      dropped: {},
      count: 1000,
    });
    expect(seen.over).toEqual({ stored: 1000, oldest: "v9998", dropped: { page_views_dropped: "1" }, count: 1001 });
    expect(seen.more).toEqual({ stored: 1000, oldest: "v9996", dropped: { page_views_dropped: "4" }, count: 1004 });
    expect(seen.gone, "still stored of the four oldest").toEqual([]);
    expect(seen.late, "a late time on page of a dropped view").toEqual({
      stored: 1000,
      oldest: "v9996",
      dropped: { page_views_dropped: "4" },
      count: 1004,
      w4: 3000,
    });
  });

  it("a batch is all or nothing: one view that cannot be stored leaves no view, referrer or client of it", async () => {
    const seen = await fresh().in((c) => {
      let error = "";
      try {
        recordPageViews(
          c,
          [view("good", T0), view("bad", T0, { title: null as unknown as string })],
          "https://search.example/",
          { ip: "203.0.113.7", userAgent: CHROME, geo: OSLO },
        );
      } catch (err) {
        error = String(err);
      }
      return { error, rows: pageRows(c), referrer: c.meta.referrer, client: metaRows(c, CLIENT) };
    });
    expect(seen.error).toMatch(/NOT NULL/);
    expect(seen).toMatchObject({ rows: [], referrer: null, client: {} });
  });
});

describe("what the panel is shown of the visitor", () => {
  const nobody: VisitorInfo = {
    id: VISITOR_ID,
    name: null,
    email: null,
    online: false,
    lastSeen: null,
    ip: null,
    browser: null,
    os: null,
    device: null,
    bot: false,
    location: null,
    referrer: null,
    pages: { count: 0, items: [] },
    web: false,
    mail: null,
  };

  it("a visitor known only by id: no name, no web, no mail, no pages", async () => {
    expect(await fresh().in((c) => visitorInfo(c))).toEqual(nobody);
  });

  it("everything the widget told: browser, system and device from the User-Agent, location, IP, pages, referrer", async () => {
    const info = await fresh().in((c) => {
      c.meta.visitorName = "Vera";
      c.meta.visitorEmail = "vera@example.org";
      now = T0 + 3;
      recordPageViews(c, [view("home", T0 - 60_000, { ms: 42_000 })], "https://search.example/", {
        ip: "203.0.113.7",
        userAgent: CHROME,
        geo: OSLO,
      });
      c.meta.pageViewsDropped = 7;
      return visitorInfo(c);
    });
    expect(info).toEqual({
      ...nobody,
      name: "Vera",
      email: "vera@example.org",
      lastSeen: T0 + 3,
      ip: "203.0.113.7",
      browser: { name: "Chrome", version: "131.0.0.0" },
      os: { name: "Windows", version: "10" },
      device: "desktop",
      location: OSLO,
      referrer: "https://search.example/",
      pages: {
        count: 8,
        items: [{ url: "https://shop.example/home", title: "Page home", at: T0 - 60_000, ms: 42_000 }],
      },
      web: true,
    });
  });

  it("came through the widget when any one sign of it is stored: a page view, an IP, a User-Agent", async () => {
    const web = await Promise.all([
      fresh().in((c) => {
        c.sql.exec(
          "INSERT INTO page_views (id, url, title, at, ms) VALUES ('p', 'https://shop.example/', 'Home', 1, NULL)",
        );
        return visitorInfo(c).web;
      }),
      fresh().in((c) => {
        c.meta.ip = "203.0.113.7";
        return visitorInfo(c).web;
      }),
      fresh().in((c) => {
        c.meta.userAgent = CHROME;
        return visitorInfo(c).web;
      }),
      fresh().in((c) => {
        c.meta.geo = OSLO; // a location alone is no sign of the widget
        c.meta.lastSeen = T0;
        return visitorInfo(c).web;
      }),
    ]);
    expect(web).toEqual([true, true, true, false]);
  });

  it("pages: the 50 newest, newest first, with the count of all", async () => {
    const seen = await fresh().in((c) => {
      recordPageViews(
        c,
        Array.from({ length: 50 }, (_, i) => view(`p${i}`, T0 + i)),
        null,
        NO_CLIENT,
      );
      const fifty = visitorInfo(c).pages;
      recordPageViews(c, [view("p50", T0 + 50)], null, NO_CLIENT);
      const fiftyOne = visitorInfo(c).pages;
      return {
        fifty: { count: fifty.count, ats: fifty.items.map((p) => p.at) },
        fiftyOne: { count: fiftyOne.count, ats: fiftyOne.items.map((p) => p.at) },
      };
    });
    const newestFirst = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => T0 + to - i);
    expect(seen.fifty).toEqual({ count: 50, ats: newestFirst(0, 49) });
    expect(seen.fiftyOne).toEqual({ count: 51, ats: newestFirst(1, 50) });
  });

  it("mail: how many the visitor sent, first and last, where the latest went, how many unverified; replies and chat do not count", async () => {
    const mail = (subject: string, to: string, more: Partial<EmailMeta> = {}): EmailMeta => ({
      subject,
      from: { name: "Ines", address: "ines@example.org" },
      to,
      messageId: `<${crypto.randomUUID()}@example.org>`,
      ...more,
    });
    const sender = { id: VISITOR_ID, name: "Ines", email: "ines@example.org" };
    const seen = await fresh().in(async (c) => {
      const empty = visitorInfo(c).mail;
      now = T0 + 1;
      receiveEmail(c, sender, "mail-1", "one", mail("One", "support@microchat.example"), "tok");
      now = T0 + 2;
      receiveEmail(
        c,
        sender,
        "mail-2",
        "two",
        mail("Two", "support+tok@microchat.example", { unverified: "no" }),
        "tok",
      );
      now = T0 + 3;
      receiveEmail(c, sender, "mail-3", "three", mail("Three", "help@microchat.example"), "tok");
      now = T0 + 4;
      // An operator's reply by email, and the visitor's chat: neither is mail the visitor sent.
      append(c, "reply", "text", { role: "operator", id: "op", name: "Olga" }, "reply", {
        channel: "email",
        email: mail("Re: Three", "ines@example.org", { unverified: "n/a" }),
      });
      append(c, "chat", "text", { role: "visitor", id: VISITOR_ID, name: "Ines" }, "chat");
      const info = visitorInfo(c);
      await settled(c);
      return { empty, info };
    });
    expect(seen.empty).toBeNull();
    expect(seen.info.mail).toEqual({
      to: "help@microchat.example",
      count: 3,
      firstAt: T0 + 1,
      lastAt: T0 + 3,
      unverified: 1,
    });
    expect(seen.info.web, "mail records no IP, browser or page").toBe(false);
    expect([seen.info.name, seen.info.email]).toEqual(["Ines", "ines@example.org"]);
  });

  it("the latest mail stored without the address it came to shows an empty one", async () => {
    const info = await fresh().in((c) => {
      const email = { subject: "Old", from: { name: "", address: "old@example.org" }, messageId: "<old@example.org>" };
      append(c, "old", "text", { role: "visitor", id: VISITOR_ID, name: "old@example.org" }, "old", {
        channel: "email",
        email: email as EmailMeta,
      });
      return visitorInfo(c).mail;
    });
    expect(info).toEqual({ to: "", count: 1, firstAt: T0, lastAt: T0, unverified: 0 });
  });
});

describe("through the visitor's socket", () => {
  it("each change of name or email is sent to the open sockets at once, a refused downgrade is not; online while a socket is open", async () => {
    vi.restoreAllMocks(); // the real clock: sockets and the routes run here
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const inIt = <T>(fn: (c: ConversationContext) => T) =>
      runInDurableObject(conversationObject(session.conversationId), (o) =>
        fn((o as unknown as { c: ConversationContext }).c),
      );
    const visitor = (name: string | null, email: string | null, verified?: boolean) => ({
      id: session.visitorId,
      name,
      email,
      ...(verified === undefined ? {} : { verified }),
    });

    expect(await inIt((c) => visitorInfo(c).online)).toBe(true);
    await inIt((c) => setProfile(c, "Kari", undefined));
    expect((await v.next("state")).state.visitor).toEqual(visitor("Kari", null));
    await inIt((c) => setSiteIdentity(c, { name: "Kari N.", email: "kari@example.org", verified: true }));
    expect((await v.next("state")).state.visitor).toEqual(visitor("Kari N.", "kari@example.org", true));
    await inIt((c) => setSiteIdentity(c, { name: "Mallory", email: null, verified: false }));
    await inIt((c) => correctVisitor(c, { email: "kari@example.net" }));
    // The next state is the correction's: the refused downgrade sent none.
    expect((await v.next("state")).state.visitor).toEqual(visitor("Kari N.", "kari@example.net", false));

    v.close();
    const end = Date.now() + 10_000;
    let online = true;
    while ((online = await inIt((c) => visitorInfo(c).online)) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(online, "online after the only socket closed").toBe(false);
  });
});
