/** Worker entry: HTTP and sockets through Hono; the Durable Object classes. */
import { app } from "./app";
import { receiveEmail } from "./email/inbound";
import type { Env } from "./env";
import { logError } from "./lib/log";

export { Conversation } from "./conversation";
export { Workspace } from "./workspace/object";

export default {
  fetch: app.fetch,
  async email(message, env) {
    try {
      await receiveEmail(message, env);
    } catch (err) {
      // Whatever receiveEmail could judge it refused with setReject, which is
      // a permanent SMTP error. What is left is ours and passing (storage or
      // an object unavailable): the exception makes Email Routing answer
      // with a temporary error, so the sender's server tries again later.
      // A retry is safe: delivery is idempotent by Message-ID.
      logError("email.not_stored_sender_retries", { from: message.from, to: message.to }, err);
      throw err;
    }
  },
} satisfies ExportedHandler<Env>;
