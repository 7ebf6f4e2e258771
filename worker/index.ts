/** Worker entry: HTTP and sockets through Hono; the Durable Object classes. */
import { app } from "./app";
import type { Env } from "./env";

export { Conversation } from "./conversation";
export { Workspace } from "./workspace";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
