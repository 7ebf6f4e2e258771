/**
 * Report > Operator.
 *   GET /api/reports/operators?from=&to=      per-operator figures and ratings per day (JSON)
 *   GET /api/reports/operators.csv?from=&to=  the same figures as CSV
 * `from`/`to` are milliseconds since the epoch; whole UTC days are reported.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../lib/http";
import { requireOperator } from "../services/auth";
import { operatorReport, reportCsv, reportFileName } from "../services/reports";

/** The report for the request's `from` and `to` (either may be absent). */
function reportFor(c: Context<AppEnv>) {
  const at = (key: string) => (c.req.query(key) ? Number(c.req.query(key)) : undefined);
  return operatorReport(c.env, at("from"), at("to"));
}

export const reports = new Hono<AppEnv>()
  .use(requireOperator)
  .get("/operators", async (c) => c.json(await reportFor(c)))
  .get("/operators.csv", async (c) => {
    const report = await reportFor(c);
    return c.body(reportCsv(report), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${reportFileName(report)}"`,
    });
  });
