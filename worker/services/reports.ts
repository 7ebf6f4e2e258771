/**
 * Report > Operator, for the panel's routes and `/api/v1` alike: the range a
 * request asks for, the workspace's figures for it, and the CSV export.
 */
import type { Env } from "../env";
import { refuse } from "../errors";
import type { OperatorReportResponse } from "../protocol";
import { workspaceStub } from "../stubs";

const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_RANGE_DAYS = 30;
const MAX_RANGE_DAYS = 366;

/**
 * The reported range: `to` defaults to now and `from` to 30 days before it
 * (never before the epoch); at most 366 days.
 */
function reportRange(from: number | undefined, to: number | undefined): { from: number; to: number } {
  const end = to ?? Date.now();
  const start = from ?? Math.max(0, end - DEFAULT_RANGE_DAYS * DAY_MS);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
    refuse("bad_request", "from and to must be times in milliseconds with from before to");
  }
  if (end - start > MAX_RANGE_DAYS * DAY_MS) refuse("bad_request", `The range can be at most ${MAX_RANGE_DAYS} days`);
  return { from: start, to: end };
}

/** Per-operator figures and ratings per day for `from`–`to` (ms since the epoch; whole UTC days). */
export async function operatorReport(
  env: Env,
  from: number | undefined,
  to: number | undefined,
): Promise<OperatorReportResponse> {
  const range = reportRange(from, to);
  return workspaceStub(env).operatorReport(range.from, range.to);
}

/** One CSV field: quoted, with formula-like starts defused for spreadsheet apps. */
function csvField(v: string | number | null): string {
  let s = v === null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** The report as CSV, one row per operator. */
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

/** The CSV download's file name: the first and last day of the range. */
export function reportFileName(report: OperatorReportResponse): string {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return `operator-report-${day(report.from)}-to-${day(report.to - 1)}.csv`;
}
