/**
 * Request bodies the loader and admins send (worker/validate/bodies.ts),
 * parsed directly: page views (only http(s) addresses, credentials dropped,
 * titles cleaned and cut, times clamped, time on page optional), the host
 * site's user (unusable names and emails dropped, not refused), and erasure
 * (a visitor id or an email). The routes are tested in test/visitor-info,
 * identity and delete.
 */
import { describe, expect, it } from "vitest";
import { Erasure, Identify, PageViews } from "../worker/validate/bodies";

const id = "A".repeat(22);
const view = (over: Record<string, unknown> = {}) => ({ id, url: "https://shop.example/a", at: 1000, ...over });
const badView = "Each view needs an id, an http(s) url, a time and optionally ms on page";

describe("page views", () => {
  it("an http(s) address is kept without its credentials; any other is refused", () => {
    const ok = PageViews.parse({ views: [view({ url: "https://user:pw@shop.example/a?q=1#top" })] });
    expect(ok.views[0]!.url).toBe("https://shop.example/a?q=1#top");
    expect(PageViews.parse({ views: [view({ url: "http://shop.example/" })] }).views[0]!.url).toBe(
      "http://shop.example/",
    );
    for (const url of [
      "javascript:alert(1)",
      "ftp://shop.example/",
      "not a url",
      `https://e.example/${"x".repeat(2000)}`,
    ]) {
      const parsed = PageViews.safeParse({ views: [view({ url })] });
      expect(parsed.success, url.slice(0, 40)).toBe(false);
      expect(parsed.error?.issues[0]?.message).toBe(badView);
    }
  });

  it("a title is cleaned to one line and cut at 300; none is empty", () => {
    const [v] = PageViews.parse({ views: [view({ title: `  Shop \n\t ${"x".repeat(400)}` })] }).views;
    expect(v!.title).toBe(`Shop ${"x".repeat(295)}`);
    expect(PageViews.parse({ views: [view()] }).views[0]!.title).toBe("");
    expect(PageViews.parse({ views: [view({ title: 42 })] }).views[0]!.title).toBe("");
  });

  it("a time is a whole number, never below 0 nor more than a minute ahead", () => {
    const at = (value: number) => PageViews.parse({ views: [view({ at: value })] }).views[0]!.at;
    expect(at(1234.9)).toBe(1234);
    expect(at(-5)).toBe(0);
    const ahead = at(Date.now() + 3_600_000);
    expect(ahead).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(ahead).toBeGreaterThan(Date.now() + 50_000);
  });

  it("time on page is optional: absent or null reads null; a negative or fractional one is refused", () => {
    expect(PageViews.parse({ views: [view()] }).views[0]!.ms).toBeNull();
    expect(PageViews.parse({ views: [view({ ms: null })] }).views[0]!.ms).toBeNull();
    expect(PageViews.parse({ views: [view({ ms: 0 })] }).views[0]!.ms).toBe(0);
    expect(PageViews.parse({ views: [view({ ms: 2500 })] }).views[0]!.ms).toBe(2500);
    for (const ms of [-1, 1.5, "10"])
      expect(PageViews.safeParse({ views: [view({ ms })] }).success, String(ms)).toBe(false);
  });

  it("1 to 20 views; a referrer is kept only as an http(s) address", () => {
    expect(PageViews.safeParse({ views: [] }).success).toBe(false);
    expect(PageViews.safeParse({ views: Array.from({ length: 21 }, () => view()) }).success).toBe(false);
    expect(PageViews.parse({ views: [view()], referrer: "https://a:b@search.example/?q=x" }).referrer).toBe(
      "https://search.example/?q=x",
    );
    expect(PageViews.parse({ views: [view()], referrer: "javascript:x" }).referrer).toBeNull();
    expect(PageViews.parse({ views: [view()] }).referrer).toBeNull();
  });
});

describe("the host site's user", () => {
  it("a name is cleaned and cut; an email is trimmed, or dropped when it does not look like one", () => {
    const user = (over: Record<string, unknown>) => Identify.parse({ user: { id: "u1", ...over } }).user;
    expect(user({ name: "  Ada \n Lovelace " }).name).toBe("Ada Lovelace");
    expect(user({ name: "x".repeat(200) }).name).toBe("x".repeat(80));
    expect(user({ name: " \u0001 " }).name).toBeNull();
    expect(user({}).name).toBeNull();
    expect(user({ email: "  ada@example.org " }).email).toBe("ada@example.org");
    expect(user({ email: "not an email" }).email).toBeNull();
    expect(user({}).email).toBeNull();
    expect(Identify.safeParse({ user: { id: "" } }).error?.issues[0]?.message).toBe("user.id is required");
  });
});

describe("erasure", () => {
  it("a visitor id or an email address, one of them at least", () => {
    expect(Erasure.parse({ visitorId: id })).toEqual({ visitorId: id });
    expect(Erasure.parse({ email: "  Ada@Example.org " })).toEqual({ email: "ada@example.org" });
    expect(Erasure.safeParse({}).error?.issues[0]?.message).toBe("Give a visitorId or an email");
    expect(Erasure.safeParse({ visitorId: "short" }).error?.issues[0]?.message).toBe("visitorId is not a visitor id");
  });
});
