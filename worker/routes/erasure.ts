/**
 * Privacy erasure (admins): delete every conversation of one visitor or one
 * email address, with their messages, files and index entries.
 *   POST /api/erasure  { visitorId } | { email }  → { deleted: n }
 */
import { Hono } from "hono";
import type { AppEnv } from "../lib/http";
import { requireOperator } from "../services/auth";
import { erasePerson } from "../services/conversations";
import { Erasure } from "../validate/bodies";
import { readBody } from "../validate/http";

export const erasure = new Hono<AppEnv>().use(requireOperator).post("/", async (c) => {
  const who = await readBody(c, Erasure);
  return c.json({ deleted: await erasePerson(c.env, c.get("operator"), who) });
});
