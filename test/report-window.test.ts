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
/** Notes `n` reports from conversations `tag-0`…; returns the last window. */
function many(w: ReportWindow, n: number, tag: string): number {
  let last = 0;
  for (let i = 0; i < n; i++) last = w.note(`${tag}-${i}`);
  return last;
}

describe("the report window", () => {
  it("is a second for a few conversations, widens with how many report at once (20 a second), up to 10 s", () => {
    const w = windowAtT0();
    expect(w.note("a")).toBe(1000);
    expect(many(w, 19, "b")).toBe(1000);
    expect(many(w, 30, "c"), "50 conversations: 2.5 s").toBe(2500);
    expect(many(w, 150, "d"), "200: 10 s").toBe(10_000);
    expect(many(w, 100, "e"), "300: still 10 s").toBe(10_000);
    expect(w.note("a"), "the same conversation again counts once").toBe(10_000);
  });

  it("a conversation stops counting 15 s after its last report, not before", () => {
    const w = windowAtT0();
    expect(many(w, 100, "busy")).toBe(5000);
    at(15_000);
    expect(w.note("x"), "exactly 15 s later, all 100 still count").toBe(5050);
    at(16_100);
    expect(w.note("y"), "past 15 s they are dropped").toBe(1000);
  });

  it("drops stale conversations at most once a second", () => {
    const w = windowAtT0();
    many(w, 100, "busy");
    at(14_600);
    expect(w.note("x"), "nothing stale yet (a drop pass ran)").toBe(5050);
    at(15_100);
    expect(w.note("y"), "stale now, but the last pass was 0.5 s ago: still counted").toBe(5100);
    at(15_600);
    expect(w.note("z"), "a second after the last pass: dropped").toBe(1000);
  });
});
