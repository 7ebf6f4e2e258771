/**
 * Report > Operator (worker/workspace/reports.ts), rule by rule, on the module
 * called directly over a fresh workspace object's real storage, with a roster
 * and a webhook queue of the test's own: which figures count for whom and on
 * which UTC day, which ratings count and how, the report's whole-day window,
 * the median, the rounding, and the daily series. (`survey-reports.test.ts`
 * covers the same through the app.)
 */
import { describe, expect, it } from "vitest";
import type { OperatorReport } from "../worker/protocol";
import type { WorkspaceContext } from "../worker/workspace/context";
import type { Operators } from "../worker/workspace/operators";
import { Reports, type OperatorStat, type RatingInput } from "../worker/workspace/reports";
import type { Webhooks } from "../worker/workspace/webhooks";
import { inFreshWorkspace } from "./helpers";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Midnight UTC starting 2024-01-10. */
const D = Date.UTC(2024, 0, 10);

const ADA = { id: "op-ada", name: "Ada" };
const BO = { id: "op-bo", name: "Bo" };
const CY = { id: "op-cy", name: "Cy" };

interface Harness {
  w: WorkspaceContext;
  reports: Reports;
  /** What was handed to the webhook queue, call by call. */
  queued: unknown[][];
  /** The SQL statements run, in order. */
  statements: string[];
}

/** Runs `fn` with Reports over a fresh workspace's storage, `roster` as the operators, a recording webhook queue. */
function withReports<T>(fn: (h: Harness) => T, roster = [ADA, BO, CY]): Promise<T> {
  return inFreshWorkspace("reports-rules", (w) => {
    const queued: unknown[][] = [];
    const statements: string[] = [];
    const sql = {
      exec: (query: string, ...bindings: unknown[]) => {
        statements.push(query);
        return w.sql.exec(query, ...bindings);
      },
    } as unknown as SqlStorage;
    const operators = { roster: () => roster.map((o) => ({ ...o, status: "online" })) } as unknown as Operators;
    const webhooks = { queue: (...args: unknown[]) => queued.push(args) } as unknown as Webhooks;
    const ctx = { ...w, sql };
    return fn({ w: ctx, reports: new Reports(ctx, operators, webhooks), queued, statements });
  });
}

const stat = (kind: OperatorStat["kind"], operatorId: string, at: number, value: number): OperatorStat => ({
  kind,
  operatorId,
  at,
  value,
});

let survey = 0;
/** A survey answer with a new id, at D unless told. */
const rating = (rating: number, operatorIds: string[], more: Partial<RatingInput> = {}): RatingInput => ({
  id: `survey-${++survey}`,
  conversationId: `c-${survey}`,
  rating,
  comment: null,
  operatorIds,
  at: D,
  ...more,
});

/** An operator with nothing in the window. */
const nothing = (op: { id: string; name: string }): OperatorReport => ({
  id: op.id,
  name: op.name,
  averageRating: null,
  ratings: 0,
  distribution: [0, 0, 0, 0, 0],
  conversationsJoined: 0,
  messagesSent: 0,
  medianFirstResponseMs: null,
});

const byId = (ops: OperatorReport[], id: string) => ops.find((o) => o.id === id)!;

describe("figures from conversations", () => {
  it("a join counts once whatever its value, messages count their value, first responses are neither", async () => {
    const report = await withReports(({ reports }) => {
      reports.addStats([
        stat("joined", ADA.id, D + 1, 7),
        stat("joined", ADA.id, D + DAY - 1, 1),
        stat("message", ADA.id, D + 5, 3),
        stat("first_response", ADA.id, D + 6, 1000),
        stat("message", ADA.id, D + DAY - 1, 4),
        stat("message", BO.id, D + 2, 2),
      ]);
      return reports.operatorReport(D, D + DAY);
    });
    expect(report.operators).toEqual([
      { ...nothing(ADA), conversationsJoined: 2, messagesSent: 7, medianFirstResponseMs: 1000 },
      { ...nothing(BO), messagesSent: 2 },
      nothing(CY),
    ]);
  });

  it("are summed per operator and UTC day, and written once per operator and day", async () => {
    const r = await withReports(({ reports, statements }) => {
      reports.addStats([
        stat("message", ADA.id, D + 1, 1),
        stat("message", ADA.id, D + 2, 10),
        stat("joined", ADA.id, D + DAY - 1, 1),
        stat("message", ADA.id, D + DAY, 100),
        stat("joined", ADA.id, D + DAY + HOUR, 1),
        stat("message", BO.id, D + 3, 1000),
        stat("first_response", ADA.id, D + 4, 50),
        stat("first_response", ADA.id, D + DAY + 4, 70),
      ]);
      const writes = statements.filter((s) => /INSERT INTO operator_daily/.test(s)).length;
      const responses = statements.filter((s) => /INSERT INTO first_responses/.test(s)).length;
      return {
        writes,
        responses,
        day1: reports.operatorReport(D, D + DAY).operators,
        day2: reports.operatorReport(D + DAY, D + 2 * DAY).operators,
      };
    });
    expect(r.writes, "Ada day 1, Ada day 2, Bo day 1").toBe(3);
    expect(r.responses, "first responses one by one").toBe(2);
    expect(byId(r.day1, ADA.id)).toEqual({
      ...nothing(ADA),
      conversationsJoined: 1,
      messagesSent: 11,
      medianFirstResponseMs: 50,
    });
    expect(byId(r.day1, BO.id)).toEqual({ ...nothing(BO), messagesSent: 1000 });
    expect(byId(r.day2, ADA.id)).toEqual({
      ...nothing(ADA),
      conversationsJoined: 1,
      messagesSent: 100,
      medianFirstResponseMs: 70,
    });
    expect(byId(r.day2, BO.id)).toEqual(nothing(BO));
  });

  it("a later report adds to the day's figures", async () => {
    const ada = await withReports(({ reports }) => {
      reports.addStats([stat("joined", ADA.id, D + 1, 1), stat("message", ADA.id, D + 1, 2)]);
      reports.addStats([stat("joined", ADA.id, D + 2, 1), stat("message", ADA.id, D + 2, 3)]);
      return byId(reports.operatorReport(D, D + DAY).operators, ADA.id);
    });
    expect(ada).toMatchObject({ conversationsJoined: 2, messagesSent: 5 });
  });
});

describe("ratings", () => {
  it("each whole star from 1 to 5 counts in its own place; the average is of the stars", async () => {
    const ada = await withReports(({ reports }) => {
      for (const r of [1, 2, 3, 4, 5]) reports.recordRating(rating(r, [ADA.id]));
      return byId(reports.operatorReport(D, D + DAY).operators, ADA.id);
    });
    expect(ada).toEqual({ ...nothing(ADA), averageRating: 3, ratings: 5, distribution: [1, 1, 1, 1, 1] });
  });

  it("anything but a whole number from 1 to 5 is ignored entirely: not stored, not counted, not sent", async () => {
    const r = await withReports(({ w, reports, queued }) => {
      for (const bad of [0, 6, -1, 4.5, 1.5, Number.NaN, Infinity]) reports.recordRating(rating(bad, [ADA.id]));
      return {
        stored: w.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM ratings").one().n,
        daily: w.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM operator_daily").one().n,
        queued: queued.length,
        report: reports.operatorReport(D, D + DAY),
      };
    });
    expect(r).toMatchObject({ stored: 0, daily: 0, queued: 0 });
    expect(r.report.operators).toEqual([nothing(ADA), nothing(BO), nothing(CY)]);
    expect(r.report.series).toEqual([{ day: "2024-01-10", ratings: 0, average: null }]);
  });

  it("is stored with its comment and sent to the webhooks once, naming each operator once", async () => {
    const r = await withReports(({ w, reports, queued }) => {
      reports.recordRating(
        rating(4, [ADA.id, BO.id, ADA.id], { id: "s1", conversationId: "conv-1", comment: "Kind", at: D + 5 }),
      );
      return {
        stored: w.sql.exec("SELECT * FROM ratings").toArray(),
        queued,
        report: reports.operatorReport(D, D + DAY),
      };
    });
    expect(r.stored).toEqual([{ id: "s1", conversation_id: "conv-1", rating: 4, comment: "Kind", at: D + 5 }]);
    expect(r.queued).toEqual([
      ["rating.submitted", { conversationId: "conv-1", rating: 4, comment: "Kind", operatorIds: [ADA.id, BO.id] }],
    ]);
    const credited = { averageRating: 4, ratings: 1, distribution: [0, 0, 0, 1, 0] };
    expect(r.report.operators).toEqual([
      { ...nothing(ADA), ...credited },
      { ...nothing(BO), ...credited },
      nothing(CY),
    ]);
    expect(r.report.series, "one survey, not one per operator").toEqual([
      { day: "2024-01-10", ratings: 1, average: 4 },
    ]);
  });

  it("a survey counts once: answered again, it changes nothing and is not sent again", async () => {
    const r = await withReports(({ w, reports, queued }) => {
      reports.recordRating(rating(5, [ADA.id], { id: "s1" }));
      reports.recordRating(rating(1, [ADA.id, BO.id], { id: "s1" }));
      return {
        stored: w.sql.exec<{ rating: number }>("SELECT rating FROM ratings").toArray(),
        queued: queued.length,
        operators: reports.operatorReport(D, D + DAY).operators,
      };
    });
    expect(r.stored).toEqual([{ rating: 5 }]);
    expect(r.queued).toBe(1);
    expect(r.operators).toEqual([
      { ...nothing(ADA), averageRating: 5, ratings: 1, distribution: [0, 0, 0, 0, 1] },
      nothing(BO),
      nothing(CY),
    ]);
  });

  it("averages are rounded to two decimals, to the nearest", async () => {
    const r = await withReports(({ reports }) => {
      for (const s of [5, 4, 4]) reports.recordRating(rating(s, [ADA.id]));
      for (const s of [5, 5, 4]) reports.recordRating(rating(s, [BO.id]));
      for (const s of [1, 2]) reports.recordRating(rating(s, [CY.id], { at: D + DAY }));
      return reports.operatorReport(D, D + 2 * DAY);
    });
    expect(r.operators.map((o) => [o.id, o.averageRating, o.ratings])).toEqual([
      [ADA.id, 4.33, 3],
      [BO.id, 4.67, 3],
      [CY.id, 1.5, 2],
    ]);
    expect(r.series).toEqual([
      { day: "2024-01-10", ratings: 6, average: 4.5 },
      { day: "2024-01-11", ratings: 2, average: 1.5 },
    ]);
  });

  it("an operator with figures but no rating has no average (not 0)", async () => {
    const bo = await withReports(({ reports }) => {
      reports.addStats([stat("joined", BO.id, D, 1)]);
      return byId(reports.operatorReport(D, D + DAY).operators, BO.id);
    });
    expect(bo).toEqual({ ...nothing(BO), conversationsJoined: 1 });
  });

  it("a rating counts on the UTC day it was given", async () => {
    const r = await withReports(({ reports }) => {
      reports.recordRating(rating(2, [ADA.id], { at: D + DAY - 1 }));
      reports.recordRating(rating(4, [ADA.id], { at: D + DAY }));
      return {
        first: byId(reports.operatorReport(D, D + DAY).operators, ADA.id),
        second: byId(reports.operatorReport(D + DAY, D + 2 * DAY).operators, ADA.id),
      };
    });
    expect(r.first).toMatchObject({ averageRating: 2, ratings: 1, distribution: [0, 1, 0, 0, 0] });
    expect(r.second).toMatchObject({ averageRating: 4, ratings: 1, distribution: [0, 0, 0, 1, 0] });
  });

  it("a deleted conversation's ratings lose their comment and link, and keep counting", async () => {
    const r = await withReports(({ w, reports }) => {
      reports.recordRating(rating(3, [ADA.id], { id: "gone", conversationId: "c-gone", comment: "Jane here" }));
      reports.recordRating(rating(5, [ADA.id], { id: "kept", conversationId: "c-kept", comment: "Thanks" }));
      reports.forgetConversation("c-gone");
      return {
        stored: w.sql.exec("SELECT id, conversation_id, rating, comment FROM ratings ORDER BY id").toArray(),
        ada: byId(reports.operatorReport(D, D + DAY).operators, ADA.id),
      };
    });
    expect(r.stored).toEqual([
      { id: "gone", conversation_id: null, rating: 3, comment: null },
      { id: "kept", conversation_id: "c-kept", rating: 5, comment: "Thanks" },
    ]);
    expect(r.ada).toMatchObject({ averageRating: 4, ratings: 2 });
  });
});

describe("the report's window", () => {
  it("is [from, to) widened to whole UTC days: from's midnight to the midnight at or after to", async () => {
    const r = await withReports(({ reports }) => {
      reports.addStats([
        stat("message", ADA.id, D - 1, 1),
        stat("message", ADA.id, D, 10),
        stat("message", ADA.id, D + DAY - 1, 100),
        stat("message", ADA.id, D + DAY, 1000),
      ]);
      const sent = (from: number, to: number) => {
        const rep = reports.operatorReport(from, to);
        return [rep.from, rep.to, byId(rep.operators, ADA.id).messagesSent];
      };
      return {
        exact: sent(D, D + DAY),
        inside: sent(D + 5 * HOUR, D + 6 * HOUR),
        lastMs: sent(D + DAY - 1, D + DAY),
        past: sent(D, D + DAY + 1),
        before: sent(D - 1, D),
      };
    });
    expect(r.exact).toEqual([D, D + DAY, 110]);
    expect(r.inside).toEqual([D, D + DAY, 110]);
    expect(r.lastMs).toEqual([D, D + DAY, 110]);
    expect(r.past).toEqual([D, D + 2 * DAY, 1110]);
    expect(r.before).toEqual([D - DAY, D, 1]);
  });

  it("first responses count in the same whole days", async () => {
    const r = await withReports(({ reports }) => {
      reports.addStats([
        stat("first_response", ADA.id, D - 1, 1),
        stat("first_response", ADA.id, D, 100),
        stat("first_response", ADA.id, D + DAY - 1, 200),
        stat("first_response", ADA.id, D + DAY, 900_000),
        stat("first_response", BO.id, D - 1, 5),
        stat("first_response", CY.id, D + DAY, 5),
      ]);
      const median = (from: number, to: number) =>
        reports.operatorReport(from, to).operators.map((o) => o.medianFirstResponseMs);
      return { day: median(D + HOUR, D + DAY - HOUR), two: median(D, D + DAY + 1) };
    });
    expect(r.day, "Ada: 100 and 200; Bo the day before; Cy the day after").toEqual([150, null, null]);
    expect(r.two).toEqual([200, null, 5]);
  });
});

describe("the median first response", () => {
  it("is the middle value, or the mean of the two middle ones, of that operator's responses only", async () => {
    const ops = ["one", "two", "three", "four", "five", "none"].map((id) => ({ id, name: id }));
    const medians = await withReports(({ reports }) => {
      const responses: Record<string, number[]> = {
        one: [42],
        two: [1, 2],
        three: [30_000, 90_000, 60_000],
        four: [1000, 10, 40, 20],
        five: [7, 500, 3, 9, 1],
      };
      for (const [id, values] of Object.entries(responses))
        reports.addStats(values.map((v, i) => stat("first_response", id, D + i, v)));
      return Object.fromEntries(
        reports.operatorReport(D, D + DAY).operators.map((o) => [o.id, o.medianFirstResponseMs]),
      );
    }, ops);
    expect(medians).toEqual({ one: 42, two: 1.5, three: 60_000, four: 30, five: 7, none: null });
  });
});

describe("the operators and the daily series", () => {
  it("lists every operator of the roster in its order, and no one else", async () => {
    const r = await withReports(
      ({ reports }) => {
        reports.addStats([stat("message", "op-gone", D, 5)]);
        reports.recordRating(rating(5, ["op-gone"]));
        return reports.operatorReport(D, D + DAY);
      },
      [CY, ADA],
    );
    expect(r.operators).toEqual([nothing(CY), nothing(ADA)]);
    expect(r.series, "the rating still counts for the workspace").toEqual([
      { day: "2024-01-10", ratings: 1, average: 5 },
    ]);
  });

  it("has a day for each day of the window, with that day's ratings and rounded average, or none", async () => {
    const series = await withReports(({ reports }) => {
      reports.recordRating(rating(1, [ADA.id], { at: D - 1 }));
      for (const s of [5, 4, 4]) reports.recordRating(rating(s, [ADA.id], { at: D + HOUR }));
      reports.recordRating(rating(2, [BO.id], { at: D + 2 * DAY + DAY - 1 }));
      reports.recordRating(rating(1, [BO.id], { at: D + 3 * DAY }));
      return reports.operatorReport(D, D + 3 * DAY).series;
    });
    expect(series).toEqual([
      { day: "2024-01-10", ratings: 3, average: 4.33 },
      { day: "2024-01-11", ratings: 0, average: null },
      { day: "2024-01-12", ratings: 1, average: 2 },
    ]);
  });

  it("is 400 days at most, from the first day of the window", async () => {
    const r = await withReports(({ reports }) => {
      reports.recordRating(rating(3, [ADA.id], { at: D + 399 * DAY }));
      reports.recordRating(rating(4, [ADA.id], { at: D + 400 * DAY }));
      const long = reports.operatorReport(D, D + 500 * DAY);
      const exact = reports.operatorReport(D, D + 400 * DAY);
      return { long, exact };
    });
    expect(r.long.series).toHaveLength(400);
    expect(r.long.series[0]).toEqual({ day: "2024-01-10", ratings: 0, average: null });
    expect(r.long.series.at(-1)).toEqual({ day: "2025-02-12", ratings: 1, average: 3 });
    expect([r.long.from, r.long.to], "the window itself is not cut").toEqual([D, D + 500 * DAY]);
    expect(byId(r.long.operators, ADA.id), "nor the figures").toMatchObject({ ratings: 2, averageRating: 3.5 });
    expect(r.exact.series).toHaveLength(400);
  });
});
