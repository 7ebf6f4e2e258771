/**
 * The only module that names the Durable Object bindings: how the Worker,
 * services and objects reach a conversation or the workspace. Everything
 * else asks here, so a change of naming (or sharding) happens in one place.
 */
import type { Env } from "./env";

/** The Durable Object of one conversation, by its id. */
export function conversationStub(env: Env, id: string) {
  return env.CONVERSATION.get(env.CONVERSATION.idFromName(id));
}

/** The workspace's Durable Object (one per deployment, named by WORKSPACE_ID, never by the public site key). */
export function workspaceStub(env: Env, name: string = env.WORKSPACE_ID) {
  return env.WORKSPACE.get(env.WORKSPACE.idFromName(name));
}
