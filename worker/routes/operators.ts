/**
 * Operator management.
 *   GET    /api/operators      every operator of the workspace (any operator)
 *   POST   /api/operators      add an operator (admins)
 *   DELETE /api/operators/:id  remove an operator and end their sessions (admins)
 *   PUT    /api/operators/me/status  { status: "online" | "away" }
 *   DELETE /api/operators/me/sessions   sign out everywhere (own sessions, this one included) → { ended }
 *   DELETE /api/operators/:id/sessions  sign another operator out everywhere (admins) → { ended }
 * Ending sessions also closes that operator's open panels (and conversation sockets).
 */
import { Hono } from "hono";
import { deleteCookie } from "hono/cookie";
import { refuse, unwrap } from "../errors";
import { isId } from "../lib/crypto";
import type { AppEnv } from "../lib/http";
import { SESSION_COOKIE } from "../lib/sessions";
import { addOperator, requireOperator } from "../services/auth";
import { workspaceStub } from "../stubs";
import { NewOperator, OperatorStatus } from "../validate/bodies";
import { readBody } from "../validate/http";

export const operators = new Hono<AppEnv>()
  .use(requireOperator)
  .get("/", async (c) => c.json({ operators: await workspaceStub(c.env).listOperators() }))
  .post("/", async (c) => {
    const operator = await addOperator(c.env, c.get("operator"), await readBody(c, NewOperator));
    return c.json({ operator }, 201);
  })
  .put("/me/status", async (c) => {
    const { status } = await readBody(c, OperatorStatus);
    await workspaceStub(c.env).setStatus(c.get("operator").id, status);
    return c.json({ status });
  })
  .delete("/me/sessions", async (c) => {
    const me = c.get("operator");
    const ended = unwrap(await workspaceStub(c.env).endSessions(me, me.id));
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.json({ ended });
  })
  .delete("/:id/sessions", async (c) => {
    const id = c.req.param("id");
    if (!isId(id)) refuse("not_found", "No such operator");
    return c.json({ ended: unwrap(await workspaceStub(c.env).endSessions(c.get("operator"), id)) });
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!isId(id)) refuse("not_found", "No such operator");
    unwrap(await workspaceStub(c.env).removeOperator(c.get("operator"), id));
    return c.body(null, 204);
  });
