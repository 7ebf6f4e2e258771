/**
 * Workspace settings.
 *   GET /api/settings   the sending address and name (any operator: shown under email messages)
 *   PUT /api/settings   change them (admins): emailAddress, emailName, retentionDays (0 = keep forever)
 */
import { Hono } from "hono";
import { isEmail } from "../lib/frames";
import { fail, jsonBody, requireOperator, unwrap, workspaceStub, type AppEnv } from "../lib/http";
import type { WorkspaceSettings } from "../protocol";

export const settings = new Hono<AppEnv>()
  .use(requireOperator)
  .get("/", async (c) => c.json((await workspaceStub(c.env).getSettings()) satisfies WorkspaceSettings))
  .put("/", async (c) => {
    const actor = c.get("operator");
    if (!actor.admin) fail(403, "forbidden", "Only admins can change settings");
    const body = await jsonBody(c);
    const update: Partial<WorkspaceSettings> = {};
    for (const key of Object.keys(body)) {
      if (key !== "emailAddress" && key !== "emailName" && key !== "retentionDays" && key !== "surveyByEmail") {
        fail(400, "unknown_field", `Unknown field: ${key}`);
      }
    }
    if (body.emailAddress !== undefined) {
      const address = typeof body.emailAddress === "string" ? body.emailAddress.trim().toLowerCase() : "";
      if (!isEmail(address) || address.includes("+"))
        fail(400, "bad_request", "The sending address must be a plain email address");
      update.emailAddress = address;
    }
    if (body.emailName !== undefined) {
      const name = typeof body.emailName === "string" ? body.emailName.trim() : "";
      if (name.length < 1 || name.length > 80 || /[\r\n]/.test(name))
        fail(400, "bad_request", "Name must be 1–80 characters");
      update.emailName = name;
    }
    if (body.retentionDays !== undefined) {
      const days = body.retentionDays;
      if (typeof days !== "number" || !Number.isInteger(days) || days < 0 || days > 3650) {
        fail(400, "bad_request", "retentionDays must be a whole number of days from 0 (off) to 3650");
      }
      update.retentionDays = days;
    }
    if (body.surveyByEmail !== undefined) {
      if (typeof body.surveyByEmail !== "boolean") fail(400, "bad_request", "surveyByEmail must be true or false");
      update.surveyByEmail = body.surveyByEmail;
    }
    return c.json(unwrap(await workspaceStub(c.env).updateSettings(actor, update)));
  });
