/**
 * Webhooks as a way into the network behind Microchat (server-side request
 * forgery): an admin, or whoever holds an admin token, registers endpoints
 * that point inside, then reads the delivery log to learn what answered.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WebhookDeliveryInfo } from "../worker/protocol";
import { fetchApp, json, signInAdmin } from "./helpers";

const workspace = () => env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));

/** Targets inside a network, each with what the refusal must say. */
const INSIDE: [string, RegExp][] = [
  ["http://hooks.test/plain", /https/],
  ["https://127.0.0.1/hook", /loopback, private/],
  ["https://127.1/hook", /loopback, private/],
  ["https://2130706433/hook", /loopback, private/],
  ["https://0x7f000001/hook", /loopback, private/],
  ["https://0177.0.0.1/hook", /loopback, private/],
  ["https://0.0.0.0/hook", /loopback, private/],
  ["https://169.254.169.254/latest/meta-data/", /link-local/],
  ["https://10.1.2.3/hook", /private/],
  ["https://172.16.0.1/hook", /private/],
  ["https://172.31.255.254/hook", /private/],
  ["https://192.168.1.1/hook", /private/],
  ["https://100.64.0.1/hook", /private/],
  ["https://[::1]/hook", /loopback/],
  ["https://[::]/hook", /loopback/],
  ["https://[::ffff:127.0.0.1]/hook", /loopback/],
  ["https://[::ffff:169.254.169.254]/hook", /loopback/],
  ["https://[::ffff:a00:1]/hook", /loopback/],
  ["https://[fc00::1]/hook", /private/],
  ["https://[fd12:3456:789a::1]/hook", /private/],
  ["https://[fe80::1]/hook", /link-local/],
  ["https://[2002:7f00:1::1]/hook", /loopback/],
  ["https://[64:ff9b::a9fe:a9fe]/hook", /loopback/],
  ["https://localhost/hook", /only reachable inside a network \(localhost\)/],
  ["https://LOCALHOST./hook", /only reachable inside a network \(localhost\)/],
  ["https://api.localhost/hook", /only reachable inside a network/],
  ["https://printer.local/hook", /only reachable inside a network/],
  ["https://metadata.google.internal/computeMetadata/v1/", /only reachable inside a network/],
  ["https://intranet/hook", /only reachable inside a network/],
  ["https://admin:secret@hooks.test/hook", /user name or password/],
  ["https://hooks.test:22/hook", /Port 22 is not allowed/],
  ["https://hooks.test:6379/hook", /Port 6379 is not allowed/],
];

async function deliveries(cookie: string, hookId: string): Promise<WebhookDeliveryInfo[]> {
  const res = await fetchApp(`/api/v1/webhooks/${hookId}/deliveries`, { headers: { Cookie: cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { deliveries: WebhookDeliveryInfo[] }).deliveries;
}

/** Runs the delivery alarm until every delivery of `hookIds` has been tried once; returns them. */
async function tryOnce(cookie: string, hookIds: string[]): Promise<Record<string, WebhookDeliveryInfo[]>> {
  let seen: Record<string, WebhookDeliveryInfo[]> = {};
  for (let round = 0; round < 50; round++) {
    await runDurableObjectAlarm(workspace());
    seen = {};
    for (const id of hookIds) seen[id] = await deliveries(cookie, id);
    if (Object.values(seen).every((d) => d.length > 0 && d.every((x) => x.attempts >= 1))) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`deliveries were not tried: ${JSON.stringify(seen)}`);
}

describe("webhook targets", () => {
  it("registering an endpoint inside a network is refused 400 with the reason, and nothing is stored", async () => {
    const admin = await signInAdmin();
    for (const [url, reason] of INSIDE) {
      const res = await fetchApp("/api/v1/webhooks", json({ url, events: ["message.created"] }, { Cookie: admin }));
      const body = await res.text();
      expect(res.status, `${url}: ${body}`).toBe(400);
      const { error } = JSON.parse(body) as { error: { code: string; message: string } };
      expect(error.code, url).toBe("validation_error");
      expect(error.message, `${url}: ${error.message}`).toMatch(reason);
    }
    const listed = (await (await fetchApp("/api/v1/webhooks", { headers: { Cookie: admin } })).json()) as {
      webhooks: { url: string }[];
    };
    const stored = listed.webhooks.map((w) => w.url);
    expect(
      stored.filter((u) => INSIDE.some(([bad]) => bad === u)),
      "stored",
    ).toEqual([]);
  });

  it("public HTTPS endpoints are still accepted: names, public IPv4 and IPv6, the other HTTPS ports", async () => {
    const admin = await signInAdmin();
    for (const url of [
      "https://hooks.test/public",
      "https://hooks.test:8443/public",
      "https://1.1.1.1/hook",
      "https://[2606:4700:4700::1111]/hook",
      "https://crm.example.com./hook",
    ]) {
      const res = await fetchApp("/api/v1/webhooks", json({ url, events: ["message.created"] }, { Cookie: admin }));
      const body = await res.text();
      expect(res.status, `${url}: ${body}`).toBe(201);
      const { webhook } = JSON.parse(body) as { webhook: { id: string } };
      await fetchApp(`/api/v1/webhooks/${webhook.id}`, { method: "DELETE", headers: { Cookie: admin } });
    }
  });

  it("an endpoint stored before the check (or re-pointed) is not called at delivery: the log says why", async () => {
    const admin = await signInAdmin();
    const legacy = [
      "https://169.254.169.254/latest/meta-data/",
      "https://localhost:8080/admin",
      "http://hooks.test/legacy-plain",
      "https://[::ffff:10.0.0.1]/hook",
    ];
    const ids = await runInDurableObject(workspace(), (_o, state) =>
      legacy.map((url) => {
        const id = crypto.randomUUID().replace(/-/g, "").slice(0, 22);
        state.storage.sql.exec(
          "INSERT INTO webhooks (id, url, secret, events, created_at) VALUES (?, ?, 'whsec_legacy', ?, ?)",
          id,
          url,
          JSON.stringify(["conversation.deleted"]),
          Date.now() - 60_000,
        );
        return id;
      }),
    );
    // Stored behind the object's back: let it read its subscriptions again.
    await evictDurableObject(workspace());
    await workspace().emit("conversation.deleted", JSON.stringify({ conversationId: "legacy-check" }));
    const tried = await tryOnce(admin, ids);
    legacy.forEach((url, i) => {
      const [d] = tried[ids[i]!]!;
      expect(d, url).toMatchObject({ status: "failed", attempts: 1, responseStatus: null });
      expect(d!.lastError, url).toMatch(/^Not sent: (The webhook URL|Port 8080 is not allowed)/);
    });
    const received = (await (await fetch("https://hooks.test/_received")).json()) as { url: string }[];
    expect(received.filter((r) => r.url.includes("legacy-plain"))).toEqual([]);
    for (const id of ids) await fetchApp(`/api/v1/webhooks/${id}`, { method: "DELETE", headers: { Cookie: admin } });
  });

  it("the delivery log never tells a closed port from a filtered one: every network failure is one generic text", async () => {
    const admin = await signInAdmin();
    const hooks: Record<string, string> = {};
    for (const path of ["refused", "timeout", "reset"]) {
      const created = await fetchApp(
        "/api/v1/webhooks",
        json({ url: `https://hooks.test/down/${path}`, events: ["conversation.deleted"] }, { Cookie: admin }),
      );
      expect(created.status).toBe(201);
      hooks[path] = ((await created.json()) as { webhook: { id: string } }).webhook.id;
    }
    // The runtime's own failures for a closed port, a filtered one and a dropped connection,
    // as the Worker's fetch reports them (the stand-in receiver can only answer, not fail to connect).
    const failures: Record<string, Error> = {
      refused: new TypeError("connect ECONNREFUSED 10.0.0.7:6379"),
      timeout: new DOMException("The operation was aborted due to timeout", "TimeoutError"),
      reset: new TypeError("Network connection lost."),
    };
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const failure = url.pathname.startsWith("/down/") ? failures[url.pathname.slice(6)] : undefined;
      if (failure) throw failure;
      return realFetch(input, init);
    }) as typeof fetch;
    try {
      await workspace().emit("conversation.deleted", JSON.stringify({ conversationId: "unreachable-check" }));
      const tried = await tryOnce(admin, Object.values(hooks));
      for (const [path, id] of Object.entries(hooks)) {
        const [d] = tried[id]!;
        expect(d, `${path}: ${JSON.stringify(d)}`).toMatchObject({
          status: "pending",
          attempts: 1,
          responseStatus: null,
          lastError: "delivery failed (network error)",
        });
      }
    } finally {
      globalThis.fetch = realFetch;
    }
    for (const id of Object.values(hooks))
      await fetchApp(`/api/v1/webhooks/${id}`, { method: "DELETE", headers: { Cookie: admin } });
  });
});
