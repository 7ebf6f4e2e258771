import { exports } from "cloudflare:workers";
import { hc } from "hono/client";
import { describe, expect, it } from "vitest";
import type { ApiV1 } from "../worker/routes/v1";
import { fetchApp, json, newVisitorSession, say, signInAdmin, visitorSocket } from "./helpers";

describe("typed API client", () => {
  it("hc<ApiV1> lists conversations and sends a message with full types", async () => {
    const admin = await signInAdmin();
    const created = await fetchApp("/api/v1/tokens", json({ name: "typed client", scope: "write" }, { Cookie: admin }));
    const { token } = (await created.json()) as { token: string };
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hi from the typed test");

    // The same code a team would write, pointed at the Worker under test.
    const api = hc<ApiV1>("http://microchat.test/api/v1", {
      headers: { Authorization: `Bearer ${token}` },
      fetch: (input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
    });
    const list = await api.conversations.$get({ query: { state: "unassigned" } });
    expect(list.status).toBe(200);
    const body = await list.json();
    if (!("conversations" in body)) throw new Error("expected a list");
    expect(body.conversations.map((c) => c.id)).toContain(session.conversationId);

    await api.conversations[":id"].join.$post({ param: { id: session.conversationId } });
    const sent = await api.conversations[":id"].messages.$post({
      param: { id: session.conversationId },
      json: { text: "Typed hello", channel: "chat" },
    });
    expect(sent.status).toBe(201);
    await v.until("message", (f) => f.message.text === "Typed hello");
    v.close();
  });
});
