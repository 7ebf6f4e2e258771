/**
 * Microchat as `npm run bench:mail` runs it: the real Worker (same
 * wrangler.toml, same Durable Objects, R2 and handlers), plus one route,
 * `POST /api/bench/email?from=…&to=…` (under /api/ so that it reaches the
 * Worker before the static assets), that hands the request body to the real
 * `email()` handler the way Email Routing does (a ForwardableEmailMessage)
 * and answers with the refusal, if any. Only the benchmark loads this file:
 * `wrangler dev bench/mail/worker.ts` replaces `main` for that one run.
 *
 * (`wrangler dev` has its own /cdn-cgi/local/email route, but it parses the
 * mail with its own copy of postal-mime before calling the handler, so its
 * time would not be Microchat's alone.)
 */
import worker from "../../worker/index";
import type { Env } from "../../worker/env";

export { Conversation, Workspace } from "../../worker/index";

async function benchEmail(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const raw = new Uint8Array(await request.arrayBuffer());
  let rejected: string | null = null;
  const message = {
    from: url.searchParams.get("from") ?? "",
    to: url.searchParams.get("to") ?? "",
    headers: new Headers(),
    raw: new Response(raw).body!,
    rawSize: raw.byteLength,
    canBeForwarded: false,
    setReject(reason: string) {
      rejected = reason;
    },
    forward: async () => ({ messageId: "" }),
    reply: async () => ({ messageId: "" }),
  } as unknown as ForwardableEmailMessage;
  await worker.email(message, env);
  return Response.json({ rejected });
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/api/bench/email") return benchEmail(request, env);
    return worker.fetch(request, env, ctx);
  },
  email: worker.email,
} satisfies ExportedHandler<Env>;
