/**
 * Workspace settings.
 *   GET /api/settings   the sending address and name (any operator: shown under email messages)
 *   PUT /api/settings   change them (admins): emailAddress, emailName, retentionDays (0 = keep forever), surveyByEmail
 */
import { Hono } from "hono";
import { unwrap } from "../errors";
import type { AppEnv } from "../lib/http";
import type { WorkspaceSettings } from "../protocol";
import { requireOperator } from "../services/auth";
import { workspaceStub } from "../stubs";
import { SettingsUpdate } from "../validate/bodies";
import { readBody } from "../validate/http";

export const settings = new Hono<AppEnv>()
  .use(requireOperator)
  .get("/", async (c) => c.json((await workspaceStub(c.env).getSettings()) satisfies WorkspaceSettings))
  .put("/", async (c) => {
    const update = await readBody(c, SettingsUpdate);
    return c.json(unwrap(await workspaceStub(c.env).updateSettings(c.get("operator"), update)));
  });
