/**
 * The pacing of index reports (worker/workspace/report-window.ts), with the
 * clock set by the test: how wide the window is for how many conversations
 * report, when a quiet conversation stops counting, and how often stale ones
 * are dropped.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ReportWindow } from "../worker/workspace/report-window";

const T0 = 1_700_000_000_000;
let now = T0;
afterEach(() => vi.restoreAllMocks());

/** A window over a clock at `now`; `at(ms)` moves the clock to T0 + ms. */
function windowAtT0() {
  now = T0;
  vi.spyOn(Date, "now").mockImplementation(() => now);
  return new ReportWindow();
}
const at = (ms: number) => (now = T0 + ms);
/** Notes `n` reports from conversations `tag-0`… (none waiting in Unassigned); returns the last window. */
function many(w: ReportWindow, n: number, tag: string): number {
  let last = 0;
  for (let i = 0; i < n; i++) last = w.note(`${tag}-${i}`, false);
  return last;
}

describe("the report window", () => {
  it("is a second for a few conversations, widens with how many report at once (20 a second), up to 30 s", () => {
    const w = windowAtT0();
    expect(w.note("a", false)).toBe(1000);
    expect(many(w, 19, "b")).toBe(1000);
    expect(many(w, 30, "c"), "50 conversations: 2.5 s").toBe(2500);
    expect(many(w, 150, "d"), "200: 10 s").toBe(10_000);
    expect(many(w, 400, "e"), "600: 30 s").toBe(30_000);
    expect(many(w, 1400, "f"), "2,000: still 30 s").toBe(30_000);
    expect(w.note("a", false), "the same conversation again counts once").toBe(30_000);
  });

  it("a conversation waiting in Unassigned gets a second whatever the load, and still counts for the others", () => {
    const w = windowAtT0();
    expect(many(w, 400, "busy")).toBe(20_000);
    expect(w.note("waiting", true), "waiting among 400 active").toBe(1000);
    expect(w.note("other", false), "402 active, the waiting one included: 20.1 s").toBe(20_100);
    expect(w.note("waiting", false), "answered, it counts once and gets the wide window").toBe(20_100);
  });

  it("a conversation stops counting 75 s after its last report, not before", () => {
    const w = windowAtT0();
    expect(many(w, 100, "busy")).toBe(5000);
    at(75_000);
    expect(w.note("x", false), "exactly 75 s later, all 100 still count").toBe(5050);
    at(76_100);
    expect(w.note("y", false), "past 75 s they are dropped").toBe(1000);
  });

  it("drops stale conversations at most once a second", () => {
    const w = windowAtT0();
    many(w, 100, "busy");
    at(74_600);
    expect(w.note("x", false), "nothing stale yet (a drop pass ran)").toBe(5050);
    at(75_100);
    expect(w.note("y", false), "stale now, but the last pass was 0.5 s ago: still counted").toBe(5100);
    at(75_600);
    expect(w.note("z", false), "a second after the last pass: dropped").toBe(1000);
  });
});
