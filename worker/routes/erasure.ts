/**
 * Privacy erasure (admins): delete every conversation of one visitor or one
 * email address, with their messages, files and index entries.
 *   POST /api/erasure  { visitorId } | { email }  → { deleted: n }
 */
import { Hono } from "hono";
import { isId } from "../lib/crypto";
import { isEmail } from "../lib/frames";
import { fail, jsonBody, requireOperator, unwrap, workspaceStub, type AppEnv } from "../lib/http";
import { deleteConversation } from "./conversations";

export const erasure = new Hono<AppEnv>().use(requireOperator).post("/", async (c) => {
  if (!c.get("operator").admin) fail(403, "forbidden", "Only admins can erase a person's data");
  const body = await jsonBody(c);
  const visitorId = typeof body.visitorId === "string" ? body.visitorId : undefined;
  const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : undefined;
  if (visitorId !== undefined && !isId(visitorId)) fail(400, "bad_request", "visitorId is not a visitor id");
  if (email !== undefined && !isEmail(email)) fail(400, "bad_request", "That email address does not look right");
  if (!visitorId && !email) fail(400, "bad_request", "Give a visitorId or an email");
  const ids = unwrap(await workspaceStub(c.env).conversationsOf(c.get("operator"), { visitorId, email }));
  for (const id of ids) await deleteConversation(c.env, id);
  return c.json({ deleted: ids.length });
});
