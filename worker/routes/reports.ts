/**
 * Report > Operator.
 *   GET /api/reports/operators?from=&to=      per-operator figures and ratings per day (JSON)
 *   GET /api/reports/operators.csv?from=&to=  the same figures as CSV
 * `from`/`to` are milliseconds since the epoch; whole UTC days are reported.
 */
import { Hono, type Context } from "hono";
import { fail, requireOperator, workspaceStub, type AppEnv } from "../lib/http";
import type { OperatorReportResponse } from "../protocol";

const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 366;

/**
 * The reported range, for the panel's route and /api/v1 alike: `to` defaults
 * to now and `from` to 30 days before it (never before the epoch).
 */
export function reportRange(from: number | undefined, to: number | undefined): { from: number; to: number } {
  const end = to ?? Date.now();
  const start = from ?? Math.max(0, end - DEFAULT_RANGE_DAYS * DAY_MS);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
    fail(400, "bad_request", "from and to must be times in milliseconds with from before to");
  }
  if (end - start > MAX_RANGE_DAYS * DAY_MS)
    fail(400, "bad_request", `The range can be at most ${MAX_RANGE_DAYS} days`);
  return { from: start, to: end };
}

function range(c: Context<AppEnv>): { from: number; to: number } {
  const at = (key: string) => (c.req.query(key) ? Number(c.req.query(key)) : undefined);
  return reportRange(at("from"), at("to"));
}

/** One CSV field: quoted, with formula-like starts defused for spreadsheet apps. */
function csvField(v: string | number | null): string {
  let s = v === null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function reportCsv(report: OperatorReportResponse): string {
  const head = [
    "operator",
    "average_rating",
    "ratings",
    "rated_1",
    "rated_2",
    "rated_3",
    "rated_4",
    "rated_5",
    "conversations_joined",
    "messages_sent",
    "median_first_response_seconds",
  ];
  const rows = report.operators.map((o) =>
    [
      o.name,
      o.averageRating,
      o.ratings,
      ...o.distribution,
      o.conversationsJoined,
      o.messagesSent,
      o.medianFirstResponseMs === null ? null : Math.round(o.medianFirstResponseMs / 100) / 10,
    ]
      .map(csvField)
      .join(","),
  );
  return [head.join(","), ...rows].join("\r\n") + "\r\n";
}

export const reports = new Hono<AppEnv>()
  .use(requireOperator)
  .get("/operators", async (c) => {
    const { from, to } = range(c);
    return c.json(await workspaceStub(c.env).operatorReport(from, to));
  })
  .get("/operators.csv", async (c) => {
    const { from, to } = range(c);
    const report = await workspaceStub(c.env).operatorReport(from, to);
    const name = `operator-report-${new Date(report.from).toISOString().slice(0, 10)}-to-${new Date(report.to - 1).toISOString().slice(0, 10)}.csv`;
    return c.body(reportCsv(report), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${name}"`,
    });
  });
