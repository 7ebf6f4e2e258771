/**
 * Conversations, as operators work on them: the domain operations behind
 * both the panel's routes and `/api/v1`. Each takes the Worker's `env` and
 * the acting operator, asks the conversation's object (which applies the
 * assignment rules and refuses what breaks them) and then tells the
 * workspace, whose webhooks announce joins and leaves.
 */
import type { Env } from "../env";
import { unwrap } from "../errors";
import type { Channel, ConversationState, Operator, OperatorRef, PagedView, VisitorThreadsResponse } from "../protocol";
import { conversationStub, workspaceStub } from "../stubs";
import type { DeleteGrounds } from "../workspace/operators";

/** Most other conversations of one visitor listed beside a conversation. */
const THREADS_SHOWN = 20;

/** A page of the conversation index as one operator sees it (`mine` is theirs). */
export async function listConversations(
  env: Env,
  operator: OperatorRef,
  page: { view: PagedView | "assigned"; before: number | null; beforeId: string | null; limit: number },
) {
  return workspaceStub(env).listConversations(page.view, operator.id, page.before, page.limit, page.beforeId);
}

/** A conversation's live state. */
export async function conversationState(env: Env, id: string): Promise<ConversationState> {
  return unwrap(await conversationStub(env, id).getState(id, env.WORKSPACE_ID));
}

/** A page of a conversation's messages, newest page first; `before` pages back by seq. */
export async function messagePage(env: Env, id: string, before: number | null, limit: number) {
  return unwrap(await conversationStub(env, id).getMessages(id, env.WORKSPACE_ID, before, limit));
}

/** What is known of the conversation's visitor: location, pages, browser, mail. */
export async function visitorInfo(env: Env, id: string) {
  return unwrap(await conversationStub(env, id).visitorInfo(id, env.WORKSPACE_ID));
}

/** An operator corrects the visitor's name or email (null clears it). */
export async function updateVisitor(env: Env, id: string, input: { name?: string | null; email?: string | null }) {
  return unwrap(await conversationStub(env, id).updateVisitor(id, env.WORKSPACE_ID, input));
}

/** The visitor's other conversations (same email address), newest first. */
export async function otherThreads(env: Env, id: string): Promise<VisitorThreadsResponse> {
  const { visitor } = await conversationState(env, id);
  return {
    conversations: visitor.email ? await workspaceStub(env).conversationsByEmail(visitor.email, id, THREADS_SHOWN) : [],
  };
}

/** Tells the workspace's webhooks that `operator` joined or left conversation `id`. */
async function announce(
  env: Env,
  event: "conversation.joined" | "conversation.left",
  id: string,
  operator: OperatorRef,
) {
  const payload = { conversationId: id, operator: { id: operator.id, name: operator.name } };
  await workspaceStub(env).emit(event, JSON.stringify(payload));
}

/** JOIN: assigns the operator and tells webhooks. */
export async function joinConversation(env: Env, id: string, operator: OperatorRef): Promise<ConversationState> {
  const state = unwrap(
    await conversationStub(env, id).join(id, env.WORKSPACE_ID, { id: operator.id, name: operator.name }),
  );
  await announce(env, "conversation.joined", id, operator);
  return state;
}

/**
 * Leave Conversation, and tell webhooks. `requestUrl` is the request's own
 * URL: when PUBLIC_URL is not configured, links in mail sent because of this
 * leave (the survey) point at the origin the operator used, so they are right
 * on any host and port.
 */
export async function leaveConversation(
  env: Env,
  id: string,
  operator: OperatorRef,
  requestUrl: string,
): Promise<ConversationState> {
  const publicUrl = env.PUBLIC_URL || new URL(requestUrl).origin;
  const state = unwrap(await conversationStub(env, id).leave(id, env.WORKSPACE_ID, operator.id, publicUrl));
  await announce(env, "conversation.left", id, operator);
  return state;
}

/**
 * An operator's message sent over HTTP, with the socket's rules (joined
 * operators only, stored once per clientId, email replies delivered after
 * they are stored). `text` has been cleaned by the one text rule already.
 */
export async function sendMessage(
  env: Env,
  id: string,
  operator: OperatorRef,
  message: { clientId: string; text: string; channel: Channel },
) {
  const who = { role: "operator" as const, id: operator.id, name: operator.name };
  return unwrap(
    await conversationStub(env, id).sendAsOperator(
      id,
      env.WORKSPACE_ID,
      who,
      message.clientId,
      message.text,
      message.channel,
    ),
  );
}

/** Deletes one conversation's storage and files, then its index entry; no permission check, no audit entry. */
async function erase(env: Env, id: string, audit: { actor: Operator; grounds: DeleteGrounds } | null) {
  unwrap(await conversationStub(env, id).erase(id, env.WORKSPACE_ID));
  await workspaceStub(env).forgetConversation(id, audit?.actor ?? null, audit?.grounds);
}

/**
 * An operator deletes a conversation, if the workspace's rule lets them:
 * admins always; by default also an operator who joined it (Settings can
 * make it admins only). The conversation says who joined it; the workspace
 * decides and records who deleted it.
 */
export async function deleteConversation(env: Env, actor: Operator, id: string): Promise<void> {
  const { operators } = await conversationState(env, id);
  const grounds = unwrap(
    await workspaceStub(env).mayDelete(
      actor,
      operators.some((o) => o.id === actor.id),
    ),
  );
  await erase(env, id, { actor, grounds });
}

/** Privacy erasure: deletes every conversation of one visitor or one email address; returns how many. */
export async function erasePerson(
  env: Env,
  actor: Operator,
  who: { visitorId?: string; email?: string },
): Promise<number> {
  const workspace = workspaceStub(env);
  const ids = unwrap(await workspace.conversationsOf(actor, who));
  for (const id of ids) await erase(env, id, null);
  await workspace.recordErasure(actor, who, ids);
  return ids.length;
}
