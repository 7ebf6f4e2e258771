/**
 * The audit log (admins): who deleted, erased, added, removed, revoked or
 * changed what, newest first. `/api/v1/audit` answers the same for tokens.
 *   GET /api/audit?before=<id>&limit=  → { entries, hasMore }
 */
import { Hono } from "hono";
import { unwrap } from "../errors";
import type { AppEnv } from "../lib/http";
import type { AuditPage } from "../protocol";
import { requireOperator } from "../services/auth";
import { workspaceStub } from "../stubs";
import { AuditQuery } from "../validate/bodies";
import { parse } from "../validate/http";

export const audit = new Hono<AppEnv>().use(requireOperator).get("/", async (c) => {
  const q = parse(AuditQuery, c.req.query());
  const page = unwrap(await workspaceStub(c.env).auditLog(c.get("operator"), q.before ?? null, q.limit));
  return c.json(page satisfies AuditPage);
});
