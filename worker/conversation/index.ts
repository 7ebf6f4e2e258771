/**
 * What the rest of the Worker may use of the conversation object: the
 * Durable Object class (bound in wrangler.toml). Everything else in this
 * folder is the object's own business. (The headers the Worker sets on a
 * forwarded upgrade live in `lib/upgrade.ts`, shared by both sides.)
 */
export { Conversation } from "./object";
