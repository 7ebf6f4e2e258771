/**
 * What the rest of the Worker may use of the conversation object: the
 * Durable Object class (bound in wrangler.toml), the headers the Worker sets
 * when it forwards a socket upgrade, and the identity a socket carries.
 * Everything else in this folder is the object's own business.
 */
export { Conversation } from "./object";
export { IDENTITY_HEADERS, type SocketIdentity } from "./sockets";
