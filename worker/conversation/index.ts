/**
 * What the rest of the Worker may use of the conversation object: the
 * Durable Object class (bound in wrangler.toml) and the identity a socket
 * carries. (The headers the Worker sets on a forwarded upgrade live in
 * `lib/upgrade.ts`, shared by both sides.)
 * Everything else in this folder is the object's own business.
 */
export { Conversation } from "./object";
export type { SocketIdentity } from "./sockets";
