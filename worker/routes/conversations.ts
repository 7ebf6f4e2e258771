/**
 * Conversations, for operators.
 *   GET  /api/conversations?view=unassigned|mine|all&before=&limit=  a page of the index
 *   GET  /api/conversations/:id                    live state
 *   GET  /api/conversations/:id/messages?before=&limit=  a page of history (newest first page)
 *   POST /api/conversations/:id/join               JOIN: assign yourself
 *   POST /api/conversations/:id/leave              Leave Conversation
 *   POST /api/conversations/:id/files              send a file (multipart: file, clientId); joined operators
 *   GET  /api/conversations/:id/files/:fileId[?inline=1]  fetch an attachment
 *   DELETE /api/conversations/:id                  delete it: messages, files, index entry
 */
import { Hono } from "hono";
import { isId } from "../lib/crypto";
import { fail, requireOperator, unwrap, workspaceStub, type AppEnv } from "../lib/http";
import type { Env as WorkerEnv } from "../env";
import type { Env } from "../env";
import type { View } from "../workspace";
import { handleUpload, serveFile } from "./files";

export function conversationStub(env: Env, id: string) {
  return env.CONVERSATION.get(env.CONVERSATION.idFromName(id));
}

/** Deletes one conversation everywhere: its object's storage and files, then the index. */
export async function deleteConversation(env: WorkerEnv, id: string): Promise<void> {
  unwrap(await conversationStub(env, id).erase(id, env.SITE_KEY));
  await workspaceStub(env).forgetConversation(id);
}

function intParam(value: string | undefined, label: string): number | null {
  if (value === undefined || value === "") return null;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) fail(400, "bad_request", `${label} must be a non-negative integer`);
  return n;
}

function conversationId(id: string): string {
  if (!isId(id)) fail(404, "not_found", "Unknown conversation");
  return id;
}

export const conversations = new Hono<AppEnv>()
  .use(requireOperator)
  .get("/", async (c) => {
    const view = (c.req.query("view") ?? "all") as View;
    if (view !== "unassigned" && view !== "mine" && view !== "all")
      fail(400, "bad_request", "view must be unassigned, mine or all");
    const before = intParam(c.req.query("before"), "before");
    const limit = intParam(c.req.query("limit"), "limit") ?? 50;
    return c.json(await workspaceStub(c.env).listConversations(view, c.get("operator").id, before, limit));
  })
  .get("/:id", async (c) => {
    const id = conversationId(c.req.param("id"));
    return c.json({ state: unwrap(await conversationStub(c.env, id).getState(id, c.env.SITE_KEY)) });
  })
  .get("/:id/messages", async (c) => {
    const id = conversationId(c.req.param("id"));
    const before = intParam(c.req.query("before"), "before");
    const limit = intParam(c.req.query("limit"), "limit") ?? 50;
    return c.json(unwrap(await conversationStub(c.env, id).getMessages(id, c.env.SITE_KEY, before, limit)));
  })
  .post("/:id/join", async (c) => {
    const id = conversationId(c.req.param("id"));
    const op = c.get("operator");
    return c.json({
      state: unwrap(await conversationStub(c.env, id).join(id, c.env.SITE_KEY, { id: op.id, name: op.name })),
    });
  })
  .post("/:id/leave", async (c) => {
    const id = conversationId(c.req.param("id"));
    return c.json({ state: unwrap(await conversationStub(c.env, id).leave(id, c.env.SITE_KEY, c.get("operator").id)) });
  })
  .post("/:id/files", async (c) => {
    const id = conversationId(c.req.param("id"));
    const op = c.get("operator");
    return handleUpload(c, id, { role: "operator", id: op.id, name: op.name });
  })
  .delete("/:id", async (c) => {
    await deleteConversation(c.env, conversationId(c.req.param("id")));
    return c.body(null, 204);
  })
  .get("/:id/files/:fileId", async (c) => serveFile(c, conversationId(c.req.param("id")), c.req.param("fileId")));
