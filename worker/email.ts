// shim: removed at merge
/** Old path of the email helpers the Durable Objects still import; the code lives in `email/`. */
export { buildReply, newThreadToken, replySubject, tokenAddress } from "./email/outbound";
