/**
 * Conversations, for operators.
 *   GET  /api/conversations?view=unassigned|mine|all&before=&beforeId=&limit=  a page of the index
 *   GET  /api/conversations/:id                    live state
 *   GET  /api/conversations/:id/messages?before=&limit=  a page of history (newest first page)
 *   POST /api/conversations/:id/join               JOIN: assign yourself
 *   POST /api/conversations/:id/leave              Leave Conversation
 *   POST /api/conversations/:id/files              send a file (multipart: file, clientId, channel?); joined operators
 *   GET  /api/conversations/:id/files/:fileId[?inline=1]  fetch an attachment
 *   DELETE /api/conversations/:id                  delete it: messages, files, index entry (admins, and the
 *                                                  operators in it unless Settings says admins only; audited)
 *   GET  /api/conversations/:id/visitor            visitor info: location, pages, browser, OS, IP
 *   PATCH /api/conversations/:id/visitor           correct the visitor's name / email
 *   GET  /api/conversations/:id/threads            the visitor's other conversations (same email)
 */
import { Hono } from "hono";
import { refuse } from "../errors";
import { isId } from "../lib/crypto";
import { maxUploadBytes } from "../lib/files";
import { limitByIp, type AppEnv } from "../lib/http";
import { requireOperator } from "../services/auth";
import {
  conversationState,
  deleteConversation,
  joinConversation,
  leaveConversation,
  listConversations,
  messagePage,
  otherThreads,
  updateVisitor,
  visitorInfo,
} from "../services/conversations";
import { serveFile, storeUpload } from "../services/files";
import { VisitorUpdate } from "../validate/bodies";
import { readBody } from "../validate/http";
import { readUpload } from "../validate/upload";

function intParam(value: string | undefined, label: string): number | null {
  if (value === undefined || value === "") return null;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) refuse("bad_request", `${label} must be a non-negative integer`);
  return n;
}

/** A conversation id from the path; anything that is not one is simply unknown. */
function conversationId(id: string): string {
  if (!isId(id)) refuse("not_found", "Unknown conversation");
  return id;
}

export const conversations = new Hono<AppEnv>()
  .use(requireOperator)
  .get("/", async (c) => {
    const view = c.req.query("view") ?? "all";
    if (view !== "unassigned" && view !== "mine" && view !== "all")
      refuse("bad_request", "view must be unassigned, mine or all");
    const before = intParam(c.req.query("before"), "before");
    const limit = intParam(c.req.query("limit"), "limit") ?? 50;
    const beforeId = c.req.query("beforeId") ?? null;
    if (beforeId !== null && !isId(beforeId)) refuse("bad_request", "beforeId is not a conversation id");
    return c.json(await listConversations(c.env, c.get("operator"), { view, before, beforeId, limit }));
  })
  .get("/:id", async (c) => c.json({ state: await conversationState(c.env, conversationId(c.req.param("id"))) }))
  .get("/:id/messages", async (c) => {
    const id = conversationId(c.req.param("id"));
    const before = intParam(c.req.query("before"), "before");
    const limit = intParam(c.req.query("limit"), "limit") ?? 50;
    return c.json(await messagePage(c.env, id, before, limit));
  })
  .post("/:id/join", async (c) => {
    const id = conversationId(c.req.param("id"));
    return c.json({ state: await joinConversation(c.env, id, c.get("operator")) });
  })
  .post("/:id/leave", async (c) => {
    const id = conversationId(c.req.param("id"));
    return c.json({ state: await leaveConversation(c.env, id, c.get("operator"), c.req.url) });
  })
  .post("/:id/files", async (c) => {
    const id = conversationId(c.req.param("id"));
    const op = c.get("operator");
    await limitByIp(c, c.env.UPLOAD_LIMIT, "uploads");
    const upload = await readUpload(c, maxUploadBytes(c.env), "operator");
    const stored = await storeUpload(c.env, id, { role: "operator", id: op.id, name: op.name }, upload);
    return c.json(stored.body, stored.fresh ? 201 : 200);
  })
  .get("/:id/visitor", async (c) => c.json({ visitor: await visitorInfo(c.env, conversationId(c.req.param("id"))) }))
  .get("/:id/threads", async (c) => c.json(await otherThreads(c.env, conversationId(c.req.param("id")))))
  .patch("/:id/visitor", async (c) => {
    const id = conversationId(c.req.param("id"));
    const input = await readBody(c, VisitorUpdate);
    return c.json({ visitor: await updateVisitor(c.env, id, input) });
  })
  .delete("/:id", async (c) => {
    await deleteConversation(c.env, c.get("operator"), conversationId(c.req.param("id")));
    return c.body(null, 204);
  })
  .get("/:id/files/:fileId", async (c) => {
    const id = conversationId(c.req.param("id"));
    return serveFile(c.env, id, c.req.param("fileId"), c.req.query("inline") === "1");
  });
