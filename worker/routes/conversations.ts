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
 *   GET  /api/conversations/:id/visitor            visitor info: location, pages, browser, OS, IP
 *   PATCH /api/conversations/:id/visitor           correct the visitor's name / email
 *   GET  /api/conversations/:id/threads            the visitor's other conversations (same email)
 */
import { Hono } from "hono";
import { isId } from "../lib/crypto";
import { cleanName, isEmail } from "../lib/frames";
import { fail, jsonBody, requireOperator, unwrap, workspaceStub, type AppEnv } from "../lib/http";
import { LIMITS, type VisitorThreadsResponse } from "../protocol";
import type { Env as WorkerEnv } from "../env";
import type { Env } from "../env";
import type { IndexView as View } from "../workspace/conversation-index";
import { handleUpload, serveFile } from "./files";

/** Most other conversations of one visitor listed beside a conversation. */
const THREADS_SHOWN = 20;

export function conversationStub(env: Env, id: string) {
  return env.CONVERSATION.get(env.CONVERSATION.idFromName(id));
}

/** JOIN, for the panel's routes and the REST API alike: assigns the operator and tells webhooks. */
export async function joinConversation(env: WorkerEnv, id: string, op: { id: string; name: string }) {
  const state = unwrap(await conversationStub(env, id).join(id, env.SITE_KEY, { id: op.id, name: op.name }));
  await workspaceStub(env).emit(
    "conversation.joined",
    JSON.stringify({ conversationId: id, operator: { id: op.id, name: op.name } }),
  );
  return state;
}

/**
 * Leave Conversation, for the panel's routes and the REST API alike.
 * `requestUrl` is the request's own URL: when PUBLIC_URL is not configured,
 * links in mail sent because of this leave (the survey) point at the origin
 * the operator used, so they are right on any host and port.
 */
export async function leaveConversation(
  env: WorkerEnv,
  id: string,
  op: { id: string; name: string },
  requestUrl: string,
) {
  const publicUrl = env.PUBLIC_URL || new URL(requestUrl).origin;
  const state = unwrap(await conversationStub(env, id).leave(id, env.SITE_KEY, op.id, publicUrl));
  await workspaceStub(env).emit(
    "conversation.left",
    JSON.stringify({ conversationId: id, operator: { id: op.id, name: op.name } }),
  );
  return state;
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
    const beforeId = c.req.query("beforeId") ?? null;
    if (beforeId !== null && !isId(beforeId)) fail(400, "bad_request", "beforeId is not a conversation id");
    return c.json(await workspaceStub(c.env).listConversations(view, c.get("operator").id, before, limit, beforeId));
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
    return c.json({ state: await joinConversation(c.env, id, c.get("operator")) });
  })
  .post("/:id/leave", async (c) => {
    const id = conversationId(c.req.param("id"));
    return c.json({ state: await leaveConversation(c.env, id, c.get("operator"), c.req.url) });
  })
  .post("/:id/files", async (c) => {
    const id = conversationId(c.req.param("id"));
    const op = c.get("operator");
    return handleUpload(c, id, { role: "operator", id: op.id, name: op.name });
  })
  .get("/:id/visitor", async (c) => {
    const id = conversationId(c.req.param("id"));
    return c.json({ visitor: unwrap(await conversationStub(c.env, id).visitorInfo(id, c.env.SITE_KEY)) });
  })
  .get("/:id/threads", async (c) => {
    const id = conversationId(c.req.param("id"));
    const { visitor } = unwrap(await conversationStub(c.env, id).getState(id, c.env.SITE_KEY));
    const body: VisitorThreadsResponse = {
      conversations: visitor.email
        ? await workspaceStub(c.env).conversationsByEmail(visitor.email, id, THREADS_SHOWN)
        : [],
    };
    return c.json(body);
  })
  .patch("/:id/visitor", async (c) => {
    const id = conversationId(c.req.param("id"));
    const body = await jsonBody(c);
    const input: { name?: string | null; email?: string | null } = {};
    for (const key of Object.keys(body)) {
      if (key !== "name" && key !== "email") fail(400, "unknown_field", `Unknown field: ${key}`);
    }
    if (body.name !== undefined) {
      if (body.name !== null && typeof body.name !== "string")
        fail(400, "bad_request", "name must be a string or null");
      const name = body.name === null ? null : cleanName(body.name);
      if (name !== null && (name.length === 0 || name.length > LIMITS.nameChars)) {
        fail(400, "bad_request", `Name must be 1–${LIMITS.nameChars} characters`);
      }
      input.name = name;
    }
    if (body.email !== undefined) {
      if (body.email !== null && typeof body.email !== "string")
        fail(400, "bad_request", "email must be a string or null");
      const email = body.email === null ? null : body.email.trim();
      if (email !== null && !isEmail(email)) fail(400, "bad_request", "That email address does not look right");
      input.email = email;
    }
    return c.json({ visitor: unwrap(await conversationStub(c.env, id).updateVisitor(id, c.env.SITE_KEY, input)) });
  })
  .delete("/:id", async (c) => {
    await deleteConversation(c.env, conversationId(c.req.param("id")));
    return c.body(null, 204);
  })
  .get("/:id/files/:fileId", async (c) => serveFile(c, conversationId(c.req.param("id")), c.req.param("fileId")));
