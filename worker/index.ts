/** Worker entry: HTTP and sockets through Hono; the Durable Object classes. */
import { app } from "./app";
import { receiveEmail } from "./email/inbound";
import type { Env } from "./env";

export { Conversation } from "./conversation";
export { Workspace } from "./workspace/object";

export default {
  fetch: app.fetch,
  async email(message, env) {
    try {
      await receiveEmail(message, env);
    } catch (err) {
      // Never let a mail crash the handler: refuse it with a reason instead.
      console.error("Email", "handler failed", err);
      message.setReject("Temporary problem storing this message; please try again later");
    }
  },
} satisfies ExportedHandler<Env>;
