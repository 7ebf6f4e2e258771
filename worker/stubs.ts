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

/** The workspace's Durable Object (one per deployment, named by the site key). */
export function workspaceStub(env: Env, name: string = env.SITE_KEY) {
  return env.WORKSPACE.get(env.WORKSPACE.idFromName(name));
}
