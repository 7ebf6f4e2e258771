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

  it("conversations waiting in Unassigned are paced by their own count, up to 10 s, and still count for the others", () => {
    const w = windowAtT0();
    expect(many(w, 400, "busy")).toBe(20_000);
    expect(w.note("waiting", true), "the one waiting among 400 busy: a second").toBe(1000);
    expect(w.note("other", false), "402 active, the waiting one included: 20.1 s").toBe(20_100);
    let last = 0;
    for (let i = 0; i < 99; i++) last = w.note(`w-${i}`, true);
    expect(last, "100 waiting: 5 s").toBe(5000);
    for (let i = 99; i < 299; i++) last = w.note(`w-${i}`, true);
    expect(last, "300 waiting: 15 s would be wanted, 10 s at most").toBe(10_000);
    expect(w.note("waiting", false), "answered: out of the waiting count, paced with all 701").toBe(30_000);
    for (let i = 0; i < 200; i++) w.note(`w-${i}`, false);
    expect(w.note("w-299", true), "99 still waiting, 100 with this one").toBe(5000);
  });

  it("a waiting conversation stops counting among the waiting 75 s after its last report", () => {
    const w = windowAtT0();
    for (let i = 0; i < 100; i++) w.note(`w-${i}`, true);
    at(75_000);
    expect(w.note("x", true), "exactly 75 s later, all 100 still count").toBe(5050);
    at(76_100);
    expect(w.note("y", true), "past 75 s they are dropped").toBe(1000);
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
