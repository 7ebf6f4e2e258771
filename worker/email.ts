// shim: removed at merge
/** Old path of the email helpers still imported by the Durable Objects (and, until routes use services, routes/files); the code lives in `email/`. */
export { buildReply, MAX_OUTBOUND_EMAIL_BYTES, newThreadToken, replySubject, tokenAddress } from "./email/outbound";
