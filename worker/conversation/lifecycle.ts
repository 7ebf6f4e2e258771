/**
 * A conversation's life: it comes into being on the visitor's first contact
 * (socket, mail, page view, identity), every later call must name it the
 * same way, and deletion leaves a tombstone that nothing brings back.
 */
import { refuse } from "../errors";
import { deleteConversationFiles } from "../lib/files";
import { migrate } from "../schema/migrate";
import type { ConversationContext } from "./context";
import { conversationMigrations } from "./schema";
import { send } from "./sockets";

/** A conversation exists once its visitor has connected or written, until it is deleted. */
export function exists(c: ConversationContext): boolean {
  return c.meta.id !== null && !c.meta.deleted;
}

/** Records identity on first contact; later calls must agree with it. */
export function init(c: ConversationContext, conversationId: string, workspace: string, visitorId: string): void {
  const meta = c.meta;
  if (meta.id !== null) {
    if (meta.id !== conversationId || meta.workspace !== workspace) refuse("not_found", "Unknown conversation");
    // A deleted conversation never comes back: late sockets and mail are refused.
    if (meta.deleted) refuse("deleted", "This conversation was deleted");
    return;
  }
  c.transaction(() => {
    meta.id = conversationId;
    meta.workspace = workspace;
    meta.visitorId = visitorId;
    meta.createdAt = Date.now();
    meta.status = "unassigned";
    meta.started = false;
    meta.lastReadSeq = 0;
  });
}

/** Refuses unless this is the existing, undeleted conversation `conversationId` of `workspace`. */
export function requireConversation(c: ConversationContext, conversationId: string, workspace: string): void {
  if (!exists(c) || c.meta.id !== conversationId || c.meta.workspace !== workspace) {
    refuse("not_found", "Unknown conversation");
  }
}

/** Refuses unless `visitorId` is this conversation's visitor. */
export function requireVisitor(c: ConversationContext, visitorId: string, message = "Not your conversation"): void {
  if (c.meta.visitorId !== visitorId) refuse("forbidden", message);
}

/**
 * Deletes everything the conversation holds: its attachments in R2, its
 * message log and assignment state, and closes its sockets. What remains is
 * a tombstone (id + deleted), so nothing can bring the old conversation
 * back. Returns how many files were removed.
 */
export async function erase(c: ConversationContext, conversationId: string, workspace: string): Promise<number> {
  requireConversation(c, conversationId, workspace);
  const files = await deleteConversationFiles(c.env.ATTACHMENTS, conversationId);
  for (const ws of c.ctx.getWebSockets()) {
    send(ws, { type: "error", code: "deleted", message: "This conversation was deleted" });
    try {
      ws.close(4004, "Conversation deleted");
    } catch {
      // already closed
    }
  }
  await c.ctx.storage.deleteAlarm();
  c.memory.alarmAt = null;
  await c.ctx.storage.deleteAll();
  c.memory.hot = null;
  migrate(c.sql, conversationMigrations);
  c.transaction(() => {
    c.meta.id = conversationId;
    c.meta.workspace = workspace;
    c.meta.deleted = true;
  });
  return files;
}
