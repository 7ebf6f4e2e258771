/**
 * Operator management.
 *   GET    /api/operators      every operator of the workspace (any operator)
 *   POST   /api/operators      add an operator (admins)
 *   DELETE /api/operators/:id  remove an operator and end their sessions (admins)
 *   PUT    /api/operators/me/status  { status: "online" | "away" }
 */
import { Hono } from "hono";
import { hashPassword, isId } from "../lib/crypto";
import { fail, jsonBody, requireOperator, unwrap, workspaceStub, type AppEnv } from "../lib/http";
import { readCredentials } from "./auth";

export const operators = new Hono<AppEnv>()
  .use(requireOperator)
  .get("/", async (c) => c.json({ operators: await workspaceStub(c.env).listOperators() }))
  .post("/", async (c) => {
    const actor = c.get("operator");
    if (!actor.admin) fail(403, "forbidden", "Only admins can add operators");
    const body = await jsonBody(c);
    const { name, email, password } = readCredentials(body, true);
    const operator = unwrap(
      await workspaceStub(c.env).addOperator(actor, {
        name,
        email,
        passwordHash: await hashPassword(password),
        admin: body.admin === true,
      }),
    );
    return c.json({ operator }, 201);
  })
  .put("/me/status", async (c) => {
    const body = await jsonBody(c);
    if (body.status !== "online" && body.status !== "away")
      fail(400, "bad_request", 'status must be "online" or "away"');
    await workspaceStub(c.env).setStatus(c.get("operator").id, body.status);
    return c.json({ status: body.status });
  })
  .delete("/:id", async (c) => {
    const actor = c.get("operator");
    if (!actor.admin) fail(403, "forbidden", "Only admins can remove operators");
    const id = c.req.param("id");
    if (!isId(id)) fail(404, "not_found", "No such operator");
    unwrap(await workspaceStub(c.env).removeOperator(actor, id));
    return c.body(null, 204);
  });
