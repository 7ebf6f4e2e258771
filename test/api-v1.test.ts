import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HTTPException } from "hono/http-exception";
import { errorFromException } from "../worker/errors";
import { verifyWebhookSignature } from "../worker/workspace/webhooks";
import { fetchApp, json, newOperator, newVisitorSession, say, signInAdmin, visitorSocket } from "./helpers";

async function newToken(admin: string, name = "CRM sync"): Promise<string> {
  const res = await fetchApp("/api/v1/tokens", json({ name, scope: "admin" }, { Cookie: admin }));
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function startedConversation() {
  const session = await newVisitorSession();
  const v = await visitorSocket(session);
  await v.next("welcome");
  await say(v, "Hello from the site");
  return { session, v };
}

describe("REST API v1", () => {
  it("serves a valid OpenAPI 3.1 document generated from the routes", async () => {
    const res = await fetchApp("/api/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: any;
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/conversations",
      "/conversations/{id}",
      "/conversations/{id}/messages",
      "/conversations/{id}/join",
      "/conversations/{id}/leave",
      "/conversations/{id}/visitor",
      "/reports/operators",
      "/operators",
      "/tokens",
      "/tokens/{id}",
      "/webhooks",
      "/webhooks/{id}/deliveries",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths["/conversations/{id}/messages"]!)).toEqual(["get", "post"]);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.Message).toBeDefined();
  });

  it("a token acts as its operator: list, read, join, send, leave, visitor info, report, delete", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin);
    const { session, v } = await startedConversation();
    const id = session.conversationId;

    const list = (await (
      await fetchApp("/api/v1/conversations?state=unassigned", { headers: bearer(token) })
    ).json()) as {
      conversations: { id: string }[];
    };
    expect(list.conversations.map((c) => c.id)).toContain(id);
    const msgs = (await (
      await fetchApp(`/api/v1/conversations/${id}/messages`, { headers: bearer(token) })
    ).json()) as {
      messages: { text: string }[];
    };
    expect(msgs.messages.map((m) => m.text)).toEqual(["Hello from the site"]);

    // Sending before joining is refused.
    const early = await fetchApp(`/api/v1/conversations/${id}/messages`, json({ text: "hi" }, bearer(token)));
    expect(early.status).toBe(403);
    expect(
      (await fetchApp(`/api/v1/conversations/${id}/join`, { method: "POST", headers: bearer(token) })).status,
    ).toBe(200);
    const sent = await fetchApp(
      `/api/v1/conversations/${id}/messages`,
      json({ text: "Hi from the CRM", clientId: "crm-1" }, bearer(token)),
    );
    expect(sent.status).toBe(201);
    const seen = await v.until("message", (f) => f.message.text === "Hi from the CRM");
    expect(seen.message.author).toMatchObject({ role: "operator", name: "Ada Admin" });
    // Idempotent by clientId.
    const again = await fetchApp(
      `/api/v1/conversations/${id}/messages`,
      json({ text: "Hi from the CRM", clientId: "crm-1" }, bearer(token)),
    );
    expect(again.status).toBe(200);

    expect((await fetchApp(`/api/v1/conversations/${id}/visitor`, { headers: bearer(token) })).status).toBe(200);
    const report = await fetchApp(`/api/v1/reports/operators?from=${Date.now() - 86_400_000}&to=${Date.now() + 1}`, {
      headers: bearer(token),
    });
    expect(report.status).toBe(200);
    expect((await fetchApp("/api/v1/operators", { headers: bearer(token) })).status).toBe(200);
    expect(
      (await fetchApp(`/api/v1/conversations/${id}/leave`, { method: "POST", headers: bearer(token) })).status,
    ).toBe(200);
    expect((await fetchApp(`/api/v1/conversations/${id}`, { method: "DELETE", headers: bearer(token) })).status).toBe(
      204,
    );
    expect((await fetchApp(`/api/v1/conversations/${id}`, { headers: bearer(token) })).status).toBe(404);
    v.close();
  });

  it("refuses no token, a revoked token, malformed ids, unknown fields and bad values with JSON errors", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin, "temporary");
    const { session, v } = await startedConversation();
    const id = session.conversationId;

    const none = await fetchApp("/api/v1/conversations");
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "unauthorized" } });
    expect((await fetchApp("/api/v1/conversations", { headers: bearer("mct_nope") })).status).toBe(401);
    // A visitor's token is not an API token.
    expect((await fetchApp("/api/v1/conversations", { headers: bearer(session.token) })).status).toBe(401);

    const unknown = await fetchApp(
      `/api/v1/conversations/${id}/messages`,
      json({ text: "x", admin: true }, bearer(token)),
    );
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: "validation_error" } });
    expect((await fetchApp("/api/v1/conversations?state=everything", { headers: bearer(token) })).status).toBe(400);
    expect((await fetchApp("/api/v1/conversations/not-an-id", { headers: bearer(token) })).status).toBe(400);
    expect((await fetchApp("/api/v1/conversations/AAAAAAAAAAAAAAAAAAAAAA", { headers: bearer(token) })).status).toBe(
      404,
    );
    expect((await fetchApp(`/api/v1/conversations/${id}/messages`, json({ text: "" }, bearer(token)))).status).toBe(
      400,
    );

    // Listing shows the token without its secret; revoking it locks it out.
    const listed = await fetchApp("/api/v1/tokens", { headers: { Cookie: admin } });
    const tokens = ((await listed.json()) as { tokens: { id: string; name: string }[] }).tokens;
    expect(JSON.stringify(tokens)).not.toContain(token);
    const mine = tokens.find((t) => t.name === "temporary")!;
    expect((await fetchApp(`/api/v1/tokens/${mine.id}`, { method: "DELETE", headers: { Cookie: admin } })).status).toBe(
      204,
    );
    expect((await fetchApp("/api/v1/conversations", { headers: bearer(token) })).status).toBe(401);
    v.close();
  });

  it("a POST with no body and no Content-Type is refused 400 with the JSON error shape, and nothing is created", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin, "empty bodies");
    const { session, v } = await startedConversation();
    await fetchApp(`/api/v1/conversations/${session.conversationId}/join`, { method: "POST", headers: bearer(token) });
    for (const path of [
      "/api/v1/tokens",
      "/api/v1/webhooks",
      `/api/v1/conversations/${session.conversationId}/messages`,
    ]) {
      const res = await fetchApp(path, { method: "POST", headers: bearer(token) });
      const body = await res.text();
      expect(res.status, `${path}: ${body}`).toBe(400);
      expect(res.headers.get("Content-Type"), path).toMatch(/^application\/json/);
      expect(JSON.parse(body), path).toMatchObject({
        error: { code: "validation_error", message: expect.stringMatching(/required|expected/i) },
      });
    }
    const webhooks = (await (await fetchApp("/api/v1/webhooks", { headers: bearer(token) })).json()) as {
      webhooks: unknown[];
    };
    expect(webhooks.webhooks).toEqual([]);
    v.close();
  });

  it("malformed JSON and a wrong Content-Type get the JSON error shape, on the REST API and the panel's routes", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin, "bad bodies");
    const cases: [string, RequestInit, number, string][] = [
      [
        "/api/v1/tokens",
        { body: "\0", headers: { "Content-Type": "application/json", ...bearer(token) } },
        400,
        "bad_json",
      ],
      [
        "/api/v1/tokens",
        { body: "{", headers: { "Content-Type": "application/json", ...bearer(token) } },
        400,
        "bad_json",
      ],
      [
        "/api/v1/webhooks",
        { body: "", headers: { "Content-Type": "application/json", ...bearer(token) } },
        400,
        "bad_json",
      ],
      [
        "/api/v1/tokens",
        { body: '{"name":"x"}', headers: { "Content-Type": "text/plain", ...bearer(token) } },
        415,
        "unsupported_media_type",
      ],
      ["/api/v1/tokens", { body: '{"name":"x"}', headers: bearer(token) }, 415, "unsupported_media_type"],
      // A body with no Content-Type at all (a stream: a string body would be labelled text/plain) is not JSON either.
      [
        "/api/v1/tokens",
        { body: new Blob(['{"name":"x"}']).stream(), headers: bearer(token) },
        415,
        "unsupported_media_type",
      ],
      // Neither a Content-Type nor a body: nothing to refuse as a media type, so the fields are missing.
      ["/api/v1/tokens", { headers: bearer(token) }, 400, "validation_error"],
      [
        "/api/v1/tokens",
        { body: '{"name":"x"}', headers: { "Content-Type": "application/json; charset", ...bearer(token) } },
        415,
        "unsupported_media_type",
      ],
      [
        "/api/operators",
        { body: "\0", headers: { "Content-Type": "application/json", Cookie: admin } },
        400,
        "bad_json",
      ],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await fetchApp(path, { method: "POST", ...init });
      const body = await res.text();
      const what = `${path} ${JSON.stringify(init.body)} ${JSON.stringify(init.headers)}: ${res.status} ${body}`;
      expect(res.status, what).toBe(status);
      expect(res.headers.get("Content-Type"), what).toMatch(/^application\/json/);
      expect(JSON.parse(body), what).toEqual({ error: { code, message: expect.any(String) } });
    }
  });

  it("Report > Operator: from and to are optional in the document and in fact (to defaults to now, from to 30 days before)", async () => {
    const admin = await signInAdmin();
    const doc = (await (await fetchApp("/api/v1/openapi.json")).json()) as {
      paths: Record<string, { get: { parameters: { name: string; required: boolean }[] } }>;
    };
    const params = doc.paths["/reports/operators"]!.get.parameters;
    expect(params.map((p) => [p.name, p.required])).toEqual([
      ["from", false],
      ["to", false],
    ]);
    const at = async (query: string) => {
      const res = await fetchApp(`/api/v1/reports/operators${query}`, { headers: { Cookie: admin } });
      const body = await res.text();
      return { status: res.status, body, what: `${query}: ${res.status} ${body}` };
    };
    const onlyTo = await at("?to=1");
    expect(onlyTo.status, onlyTo.what).toBe(200);
    expect(JSON.parse(onlyTo.body), onlyTo.what).toMatchObject({ from: 0 });
    const neither = await at("");
    expect(neither.status, neither.what).toBe(200);
    const { from, to } = JSON.parse(neither.body) as { from: number; to: number };
    expect(to - from, neither.what).toBeGreaterThanOrEqual(30 * 86_400_000);
    const onlyFrom = await at(`?from=${Date.now() - 86_400_000}`);
    expect(onlyFrom.status, onlyFrom.what).toBe(200);
    for (const bad of ["?from=abc", "?to=1.5", "?from=5&to=5", `?from=0&to=${400 * 86_400_000}`, "?from="]) {
      const r = await at(bad);
      expect(r.status, r.what).toBe(400);
      expect(JSON.parse(r.body), r.what).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    }
  });

  it("paging cursors the document marks nullable accept null (and empty) as the first page", async () => {
    const admin = await signInAdmin();
    const { session, v } = await startedConversation();
    const id = session.conversationId;
    const doc = (await (await fetchApp("/api/v1/openapi.json")).json()) as {
      paths: Record<string, { get: { parameters: { name: string; in: string; schema: { type: unknown } }[] } }>;
    };
    const nullable = (path: string) =>
      doc.paths[path]!.get.parameters.filter((p) => Array.isArray(p.schema.type) && p.schema.type.includes("null"));
    expect(nullable("/conversations").map((p) => p.name)).toEqual(["before", "beforeId"]);
    expect(nullable("/conversations/{id}/messages").map((p) => p.name)).toEqual(["before"]);
    for (const query of ["?before=null", "?before=null&beforeId=null", "?before=&beforeId="]) {
      const res = await fetchApp(`/api/v1/conversations${query}`, { headers: { Cookie: admin } });
      const body = await res.text();
      expect(res.status, `${query}: ${body}`).toBe(200);
      expect((JSON.parse(body) as { conversations: { id: string }[] }).conversations.map((c) => c.id)).toContain(id);
    }
    const page = await fetchApp(`/api/v1/conversations/${id}/messages?before=null`, { headers: { Cookie: admin } });
    const body = await page.text();
    expect(page.status, body).toBe(200);
    expect((JSON.parse(body) as { messages: { text: string }[] }).messages.map((m) => m.text)).toEqual([
      "Hello from the site",
    ]);
    v.close();
  });

  it("a body over 64 KiB is refused 413 with the JSON error shape, declared or streamed, and nothing is stored", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin, "big bodies");
    const name = "x".repeat(70 * 1024);
    const declared = await fetchApp("/api/v1/tokens", json({ name }, bearer(token)));
    const streamed = await fetchApp("/api/v1/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...bearer(token) },
      body: new Blob([JSON.stringify({ name })]).stream(),
    });
    for (const res of [declared, streamed]) {
      const body = await res.text();
      expect(res.status, body.slice(0, 200)).toBe(413);
      expect(JSON.parse(body)).toEqual({ error: { code: "too_large", message: expect.any(String) } });
    }
    const tokens = (await (await fetchApp("/api/v1/tokens", { headers: bearer(token) })).json()) as {
      tokens: { name: string }[];
    };
    expect(tokens.tokens.some((t) => t.name.startsWith("xxx"))).toBe(false);
    // Any plain-text HTTPException (Hono's own body limit answers "Payload Too Large") is given the JSON shape.
    const plain = errorFromException(
      new HTTPException(413, { res: new Response("Payload Too Large", { status: 413 }) }),
      new Request("http://microchat.test/api/x"),
    );
    expect(plain.status).toBe(413);
    expect(await plain.json()).toEqual({ error: { code: "too_large", message: expect.any(String) } });
  });

  it("a known path asked with a method it lacks answers 405 with Allow; an unknown path 404", async () => {
    const admin = await signInAdmin();
    const cases: [string, string, string | null][] = [
      ["PUT", "/api/v1/tokens", "GET, HEAD, POST"],
      ["PATCH", "/api/v1/conversations/AAAAAAAAAAAAAAAAAAAAAA", "GET, HEAD, DELETE"],
      ["GET", "/api/v1/conversations/AAAAAAAAAAAAAAAAAAAAAA/join", "POST"],
      ["POST", "/api/v1/openapi.json", "GET, HEAD"],
      ["PUT", "/api/operators", "GET, HEAD, POST"],
      ["DELETE", "/healthz", "GET, HEAD"],
      ["GET", "/api/v1/nothing-here", null],
    ];
    for (const [method, path, allow] of cases) {
      const res = await fetchApp(path, { method, headers: { Cookie: admin } });
      const body = await res.text();
      const what = `${method} ${path}: ${res.status} Allow=${res.headers.get("Allow")} ${body}`;
      expect(res.status, what).toBe(allow ? 405 : 404);
      expect(res.headers.get("Allow"), what).toBe(allow);
      expect(JSON.parse(body), what).toEqual({
        error: { code: allow ? "method_not_allowed" : "not_found", message: expect.any(String) },
      });
    }
  });

  it("tokens are stored only as hashes, and only admins manage tokens and webhooks", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin, "hash check");
    const stored = await runInDurableObject(env.WORKSPACE.get(env.WORKSPACE.idFromName("demo")), (_o, state) =>
      state.storage.sql
        .exec<{ token_hash: string }>("SELECT token_hash FROM api_tokens")
        .toArray()
        .map((r) => r.token_hash),
    );
    expect(stored.join(" ")).not.toContain(token);
    const bob = await newOperator(admin, "Bob");
    expect((await fetchApp("/api/v1/tokens", json({ name: "x", scope: "read" }, { Cookie: bob.cookie }))).status).toBe(
      403,
    );
    expect((await fetchApp("/api/v1/webhooks", { headers: { Cookie: bob.cookie } })).status).toBe(403);
  });
});

describe("webhooks", () => {
  it("message.created starts at the subscription: earlier messages are not replayed, later ones arrive", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin, "since");
    const { session, v } = await startedConversation();
    await say(v, "before the hook");
    // A long history from before the hook: catching up must not wade through it report by report.
    const conversation = env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
    await runInDurableObject(conversation, (_o, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
         INSERT INTO messages (seq, client_id, kind, author_role, author_id, author_name, text, at)
         SELECT 100 + i, 'old-' || i, 'text', 'visitor', ?, 'V', 'old ' || i, ? FROM n`,
        session.visitorId,
        Date.now() - 60_000,
      );
    });
    await evictDurableObject(conversation); // written behind its back: let it reread its storage
    const created = await fetchApp(
      "/api/v1/webhooks",
      json({ url: "https://hooks.test/since", events: ["message.created"] }, bearer(token)),
    );
    const { webhook } = (await created.json()) as { webhook: { id: string } };
    await say(v, "after the hook");
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    const payloads = () =>
      runInDurableObject(ws, (_o, state) =>
        state.storage.sql
          .exec<{ payload: string }>("SELECT payload FROM webhook_deliveries WHERE webhook_id = ?", webhook.id)
          .toArray()
          .map((r) => r.payload)
          .filter((p) => p.includes(session.conversationId)),
      );
    let found: string[] = [];
    for (let i = 0; i < 80 && !found.some((p) => p.includes("after the hook")); i++) {
      await new Promise((r) => setTimeout(r, 100));
      found = await payloads();
    }
    expect(found.some((p) => p.includes("after the hook"))).toBe(true);
    expect(found.some((p) => /before the hook|Hello from the site|"old \d+"/.test(p))).toBe(false);
    expect(found).toHaveLength(1);
    await fetchApp(`/api/v1/webhooks/${webhook.id}`, { method: "DELETE", headers: bearer(token) });
    v.close();
  });

  it("deliver signed events; failures are retried with backoff and logged", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin, "hooks");
    const ok = await fetchApp(
      "/api/v1/webhooks",
      json(
        { url: "https://hooks.test/ok", events: ["conversation.created", "message.created", "conversation.joined"] },
        bearer(token),
      ),
    );
    expect(ok.status).toBe(201);
    const { webhook, secret } = (await ok.json()) as { webhook: { id: string }; secret: string };
    const failing = (await (
      await fetchApp(
        "/api/v1/webhooks",
        json({ url: "https://hooks.test/fail", events: ["conversation.joined"] }, bearer(token)),
      )
    ).json()) as { webhook: { id: string } };
    expect(
      (
        await fetchApp(
          "/api/v1/webhooks",
          json({ url: "http://insecure.test/", events: ["message.created"] }, bearer(token)),
        )
      ).status,
    ).toBe(400);

    const { session, v } = await startedConversation();
    await fetchApp(`/api/v1/conversations/${session.conversationId}/join`, { method: "POST", headers: bearer(token) });
    const ws = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
    // Conversation reports are coalesced; wait until the index has it, then run the delivery alarm.
    for (let i = 0; i < 40; i++) {
      const deliveries = await runInDurableObject(
        ws,
        (_o, state) =>
          state.storage.sql
            .exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?", webhook.id)
            .one().n,
      );
      if (deliveries >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await runDurableObjectAlarm(ws);

    const received = (await (await fetch("https://hooks.test/_received")).json()) as {
      url: string;
      headers: Record<string, string>;
      body: string;
    }[];
    const mine = received.filter((r) => r.url === "https://hooks.test/ok" && r.body.includes(session.conversationId));
    const events = mine.map((r) => (JSON.parse(r.body) as { event: string }).event).sort();
    expect(events).toEqual(expect.arrayContaining(["conversation.created", "conversation.joined", "message.created"]));
    for (const r of mine) {
      expect(await verifyWebhookSignature(secret, r.headers["microchat-signature"]!, r.body)).toBe(true);
      expect(await verifyWebhookSignature("whsec_wrong", r.headers["microchat-signature"]!, r.body)).toBe(false);
    }

    const log = (await (
      await fetchApp(`/api/v1/webhooks/${failing.webhook.id}/deliveries`, { headers: bearer(token) })
    ).json()) as {
      deliveries: { status: string; attempts: number; lastError: string | null; responseStatus: number | null }[];
    };
    const failed = log.deliveries.find((d) => d.attempts >= 1)!;
    expect(failed).toMatchObject({ status: "pending", attempts: 1, lastError: "HTTP 500", responseStatus: 500 });
    const next = await runInDurableObject(
      ws,
      (_o, state) =>
        state.storage.sql
          .exec<{ next: number }>(
            "SELECT next_attempt_at AS next FROM webhook_deliveries WHERE webhook_id = ?",
            failing.webhook.id,
          )
          .one().next,
    );
    expect(next).toBeGreaterThan(Date.now() + 20_000); // backoff, not an immediate retry
    expect(
      (await fetchApp(`/api/v1/webhooks/${failing.webhook.id}`, { method: "DELETE", headers: bearer(token) })).status,
    ).toBe(204);
    expect(
      (await fetchApp(`/api/v1/webhooks/${webhook.id}`, { method: "DELETE", headers: bearer(token) })).status,
    ).toBe(204);
    v.close();
  });

  it("the delivery log of an unknown or removed webhook is a 404, not an empty list", async () => {
    const admin = await signInAdmin();
    const token = await newToken(admin, "delivery log");
    const created = await fetchApp(
      "/api/v1/webhooks",
      json({ url: "https://hooks.test/log", events: ["message.created"] }, bearer(token)),
    );
    const { webhook } = (await created.json()) as { webhook: { id: string } };
    const log = await fetchApp(`/api/v1/webhooks/${webhook.id}/deliveries`, { headers: bearer(token) });
    expect(log.status).toBe(200);
    await fetchApp(`/api/v1/webhooks/${webhook.id}`, { method: "DELETE", headers: bearer(token) });
    for (const id of [webhook.id, "AAAAAAAAAAAAAAAAAAAAAA"]) {
      const res = await fetchApp(`/api/v1/webhooks/${id}/deliveries`, { headers: bearer(token) });
      const body = await res.text();
      expect(res.status, `${id}: ${body}`).toBe(404);
      expect(JSON.parse(body)).toEqual({ error: { code: "not_found", message: "No such webhook" } });
    }
  });

  it("signatures expire (replay protection)", async () => {
    const { signWebhook } = await import("../worker/workspace/webhooks");
    const old = await signWebhook("whsec_x", "{}", Date.now() - 3600_000);
    expect(await verifyWebhookSignature("whsec_x", old, "{}")).toBe(false);
    expect(await verifyWebhookSignature("whsec_x", await signWebhook("whsec_x", "{}"), "{}")).toBe(true);
    expect(await verifyWebhookSignature("whsec_x", await signWebhook("whsec_x", "{}"), "{ }")).toBe(false);
  });
});
