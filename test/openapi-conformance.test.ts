/**
 * The REST API keeps the contract it publishes. Everything here is driven by
 * the served document (`GET /api/v1/openapi.json`): every operation in it is
 * called for real, every status it lists for an operation is made to happen,
 * and every answer (those and a battery of bad requests) must carry a status
 * the document lists for that operation, with a body that validates against
 * the documented schema (a JSON Schema 2020-12 validator, @cfworker/json-schema;
 * objects are closed, so an undocumented field fails too). Paths asked with a
 * method the document does not list must answer 405 with `Allow`. The document
 * is generated at build time, apart from the router: the router must register
 * exactly the operations it lists.
 */
import { Validator, type Schema } from "@cfworker/json-schema";
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../worker/index";
import { v1 } from "../worker/routes/v1";
import { fetchApp, json, newOperator, newVisitorSession, say, signInAdmin, visitorSocket } from "./helpers";

type JsonSchema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: "path" | "query";
  required: boolean;
  schema: JsonSchema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  security?: unknown[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

const BASE = "/api/v1";
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const doc = (await (await fetchApp(`${BASE}/openapi.json`)).json()) as Document;
const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method, path, op })),
);

/**
 * A copy of a schema for validation: component references point into `$defs`
 * (where the validator resolves them) and every object that lists its
 * properties is closed, so a field the document does not name is an error.
 */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === "$ref" && typeof v === "string" ? v.replace("#/components/schemas/", "#/$defs/") : closed(v);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}
const defs = closed(doc.components.schemas) as Record<string, JsonSchema>;
function validatorFor(schema: JsonSchema): Validator {
  return new Validator({ ...(closed(schema) as JsonSchema), $defs: defs } as Schema, "2020-12", false);
}

/** Checks one answer against the operation's documented responses; returns the status. */
async function conforms(key: string, op: Operation, res: Response, what: string): Promise<number> {
  const text = await res.text();
  const seen = `${key} (${what}) answered ${res.status} ${res.headers.get("Content-Type")} ${text.slice(0, 300)}`;
  const documented = op.responses[String(res.status)];
  expect(documented, `undocumented status: ${seen}; documented: ${Object.keys(op.responses).join(", ")}`).toBeDefined();
  const schema = documented!.content?.["application/json"]?.schema;
  if (!schema) {
    expect(text, `documented without a body: ${seen}`).toBe("");
    return res.status;
  }
  expect(res.headers.get("Content-Type"), seen).toMatch(/^application\/json\b/);
  let body: unknown;
  expect(() => (body = JSON.parse(text)), `not JSON: ${seen}`).not.toThrow();
  const result = validatorFor(schema).validate(body);
  expect(
    result.valid,
    `body does not match the documented schema: ${seen}\n${result.errors
      .map((e) => `${e.instanceLocation} ${e.keyword}: ${e.error}`)
      .join("\n")}`,
  ).toBe(true);
  return res.status;
}

// ---------------------------------------------------------------------------
// Fixtures: an admin (cookie and token), a non-admin operator, conversations.

const SUPPORT = "support@microchat.example";
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
let n = 0;

interface Fixtures {
  token: string;
  auth: Record<string, string>;
  operator: Record<string, string>;
  /** A new chat conversation with one visitor message and a page view. */
  conversation(): Promise<string>;
  /** A new conversation that came in by email, with a picture attached. */
  emailConversation(): Promise<string>;
  /** A new conversation the token's admin has joined. */
  joined(): Promise<string>;
}

async function fixtures(): Promise<Fixtures> {
  const admin = await signInAdmin();
  const created = await fetchApp(`${BASE}/tokens`, json({ name: "conformance", scope: "admin" }, { Cookie: admin }));
  const { token } = (await created.json()) as { token: string };
  const auth = { Authorization: `Bearer ${token}` };
  const bob = await newOperator(admin, "Bob");
  const conversation = async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "Hello from the conformance test");
    v.close();
    const id = crypto.randomUUID().replace(/-/g, "").slice(0, 22);
    const views = [{ id, url: "https://shop.example/", title: "Shop", at: Date.now(), ms: 1200 }];
    const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
    const seen = await fetchApp(
      "/api/visitor/pageviews",
      json({ token: session.token, views }, { "User-Agent": ua, "CF-Connecting-IP": "203.0.113.7" }),
    );
    expect(seen.status, "page view").toBe(200);
    return session.conversationId;
  };
  return {
    token,
    auth,
    operator: { Cookie: bob.cookie },
    conversation,
    async emailConversation() {
      const sender = `conformance.${Date.now()}.${n++}@example.org`;
      const raw = `From: "Conformance" <${sender}>\r\nTo: ${SUPPORT}\r\nSubject: Picture\r\nMessage-ID: <c${Date.now()}.${n++}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <b>this</b></p>\r\n--b\r\nContent-Type: image/png; name=a.png\r\nContent-Disposition: attachment; filename=a.png\r\nContent-Transfer-Encoding: base64\r\n\r\n${PNG}\r\n--b--\r\n`;
      const bytes = new TextEncoder().encode(raw);
      const rejected: string[] = [];
      await worker.email(
        {
          from: sender,
          to: SUPPORT,
          headers: new Headers(),
          raw: new Response(bytes).body!,
          rawSize: bytes.byteLength,
          setReject: (r: string) => rejected.push(r),
        } as unknown as ForwardableEmailMessage,
        env,
      );
      expect(rejected).toEqual([]);
      for (let i = 0; i < 60; i++) {
        const list = (await (await fetchApp(`${BASE}/conversations?limit=200`, { headers: auth })).json()) as {
          conversations: { id: string; visitor: { email: string | null } }[];
        };
        const found = list.conversations.find((c) => c.visitor.email === sender);
        if (found) return found.id;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the mail from ${sender} never reached the index`);
    },
    async joined() {
      const id = await conversation();
      expect((await fetchApp(`${BASE}/conversations/${id}/join`, { method: "POST", headers: auth })).status).toBe(200);
      return id;
    },
  };
}

// ---------------------------------------------------------------------------
// How to make each operation succeed. Every operation in the document needs
// an entry (a new route without one fails the coverage test).

interface Call {
  path: string;
  init?: RequestInit;
  status: number;
}
const post = (body: unknown, headers: Record<string, string>): RequestInit => json(body, headers);

const succeed: Record<string, (f: Fixtures) => Promise<Call[]>> = {
  "GET /conversations": async (f) => {
    await f.emailConversation(); // waits until the index lists it, so the page has a row to check
    return [{ path: "/conversations", status: 200 }];
  },
  "GET /conversations/{id}": async (f) => [{ path: `/conversations/${await f.conversation()}`, status: 200 }],
  "GET /conversations/{id}/messages": async (f) => [
    { path: `/conversations/${await f.conversation()}/messages`, status: 200 },
    { path: `/conversations/${await f.emailConversation()}/messages`, status: 200 },
  ],
  "POST /conversations/{id}/messages": async (f) => {
    const path = `/conversations/${await f.joined()}/messages`;
    const body = { text: "Hello from the API", clientId: `conformance-${n++}` };
    return [
      { path, init: post(body, f.auth), status: 201 },
      { path, init: post(body, f.auth), status: 200 },
    ];
  },
  "POST /conversations/{id}/join": async (f) => [
    { path: `/conversations/${await f.conversation()}/join`, init: { method: "POST" }, status: 200 },
  ],
  "POST /conversations/{id}/leave": async (f) => [
    { path: `/conversations/${await f.joined()}/leave`, init: { method: "POST" }, status: 200 },
  ],
  "DELETE /conversations/{id}": async (f) => [
    { path: `/conversations/${await f.conversation()}`, init: { method: "DELETE" }, status: 204 },
  ],
  "GET /conversations/{id}/visitor": async (f) => [
    { path: `/conversations/${await f.conversation()}/visitor`, status: 200 },
  ],
  "GET /reports/operators": async () => [{ path: "/reports/operators", status: 200 }],
  "GET /operators": async () => [{ path: "/operators", status: 200 }],
  "GET /tokens": async () => [{ path: "/tokens", status: 200 }],
  "POST /tokens": async (f) => [
    { path: "/tokens", init: post({ name: "another", scope: "read", expiresInDays: 30 }, f.auth), status: 201 },
  ],
  "DELETE /tokens/{id}": async (f) => {
    const res = await fetchApp(`${BASE}/tokens`, post({ name: "to revoke", scope: "write" }, f.auth));
    const { info } = (await res.json()) as { info: { id: string } };
    return [{ path: `/tokens/${info.id}`, init: { method: "DELETE" }, status: 204 }];
  },
  "GET /webhooks": async () => [{ path: "/webhooks", status: 200 }],
  "POST /webhooks": async (f) => [
    {
      path: "/webhooks",
      init: post({ url: "https://hooks.test/c", events: ["message.created"] }, f.auth),
      status: 201,
    },
  ],
  "DELETE /webhooks/{id}": async (f) => [
    { path: `/webhooks/${await newWebhook(f, "conversation.left")}`, init: { method: "DELETE" }, status: 204 },
  ],
  "GET /audit": async () => [{ path: "/audit", status: 200 }],
  "GET /webhooks/{id}/deliveries": async (f) => {
    // A webhook with one delivery waiting, so the log has a row to check.
    const id = await newWebhook(f, "conversation.joined");
    await f.joined();
    return [{ path: `/webhooks/${id}/deliveries`, status: 200 }];
  },
};

async function newWebhook(f: Fixtures, event: string): Promise<string> {
  const res = await fetchApp(`${BASE}/webhooks`, post({ url: "https://hooks.test/c", events: [event] }, f.auth));
  return ((await res.json()) as { webhook: { id: string } }).webhook.id;
}

// ---------------------------------------------------------------------------
// How to make each documented error happen, from what the document says
// about the operation (its parameters, body and security).

const UNKNOWN_ID = "AAAAAAAAAAAAAAAAAAAAAA";
const hasBody = (op: Operation) => op.requestBody !== undefined;
const pathParams = (op: Operation) => (op.parameters ?? []).filter((p) => p.in === "path");
const queryParams = (op: Operation) => (op.parameters ?? []).filter((p) => p.in === "query");
const types = (s: JsonSchema) => [s.type].flat();

/** A path with its parameters filled in (all with `value`). */
function fill(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, value);
}

/** A value the parameter's schema refuses. */
function invalidValue(p: Parameter): string {
  if (p.schema.enum) return "not-one-of-them";
  if (types(p.schema).includes("integer")) return "abc";
  if (p.schema.pattern) return "not-an-id";
  throw new Error(`no invalid value known for parameter ${p.name}`);
}

async function makeError(
  status: number,
  method: string,
  path: string,
  op: Operation,
  f: Fixtures,
): Promise<{ path: string; init: RequestInit }> {
  const M = method.toUpperCase();
  const real = async () => {
    if (pathParams(op).length === 0) return path;
    const ok = (await succeed[`${M} ${path}`]!(f))[0]!.path;
    return ok;
  };
  switch (status) {
    case 401:
      return { path: fill(path, UNKNOWN_ID), init: { method: M } };
    case 400: {
      const bad = [...pathParams(op), ...queryParams(op)][0];
      if (bad?.in === "path") return { path: fill(path, invalidValue(bad)), init: { method: M, headers: f.auth } };
      if (hasBody(op)) return { path: await real(), init: post({}, f.auth) };
      if (bad) return { path: `${path}?${bad.name}=${invalidValue(bad)}`, init: { method: M, headers: f.auth } };
      throw new Error(`no way known to make ${M} ${path} answer 400`);
    }
    case 403:
      // A state change from another site is refused (CSRF), whatever the credentials;
      // a read that is for admins only is refused to an operator.
      if (M !== "GET") {
        return {
          path: fill(path, UNKNOWN_ID),
          init: { method: M, headers: { ...f.auth, "Sec-Fetch-Site": "cross-site" } },
        };
      }
      return { path: fill(path, UNKNOWN_ID), init: { method: M, headers: f.operator } };
    case 404:
      if (pathParams(op).length === 0) throw new Error(`${M} ${path} has no id that could be unknown`);
      return {
        path: fill(path, UNKNOWN_ID),
        init: hasBody(op) ? post(await validBody(M, path, f), f.auth) : { method: M, headers: f.auth },
      };
    case 413:
      return {
        path: await real(),
        init: post({ ...(await validBody(M, path, f)), padding: "x".repeat(70 * 1024) }, f.auth),
      };
    case 415:
      return {
        path: await real(),
        init: {
          method: M,
          headers: { ...f.auth, "Content-Type": "text/plain" },
          body: JSON.stringify(await validBody(M, path, f)),
        },
      };
  }
  throw new Error(`no way known to make ${M} ${path} answer ${status}`);
}

async function validBody(M: string, path: string, f: Fixtures): Promise<Record<string, unknown>> {
  const calls = await succeed[`${M} ${path}`]!(f);
  return JSON.parse(calls[0]!.init!.body as string) as Record<string, unknown>;
}

/** Requests no client should send: each must still get a documented answer. */
async function badRequests(M: string, path: string, op: Operation, f: Fixtures): Promise<[string, RequestInit][]> {
  const out: [string, RequestInit][] = [];
  const ok = (await succeed[`${M} ${path}`]!(f))[0]!;
  const base = { method: M, headers: f.auth };
  out.push([ok.path, { method: M, headers: { Authorization: "Bearer mct_not-a-token" } }]);
  out.push([ok.path, { method: M, headers: { Authorization: "Basic abc" } }]);
  out.push([ok.path, { method: M, headers: f.operator }]);
  if (pathParams(op).length > 0) {
    for (const v of ["not-an-id", "A".repeat(23), "%00", UNKNOWN_ID]) out.push([fill(path, v), base]);
  }
  for (const p of queryParams(op)) {
    for (const v of ["abc", "-1", "1.5", "", "null", "99999999999999999999", "0"]) {
      out.push([`${ok.path}?${p.name}=${encodeURIComponent(v)}`, base]);
    }
  }
  out.push([`${ok.path}?unknownParameter=1`, base]);
  if (hasBody(op)) {
    for (const body of ["", "\0", "{", "[]", "null", "1", '{"unknownField":true}', "{}"]) {
      out.push([ok.path, { method: M, headers: { ...f.auth, "Content-Type": "application/json" }, body }]);
    }
    out.push([ok.path, { method: M, headers: f.auth }]);
    out.push([ok.path, { method: M, headers: { ...f.auth, "Content-Type": "text/plain" }, body: "{}" }]);
    out.push([ok.path, { method: M, headers: f.auth, body: ok.init!.body as string }]);
  }
  return out;
}

// ---------------------------------------------------------------------------

describe("OpenAPI conformance of /api/v1", () => {
  let f: Fixtures;
  beforeAll(async () => {
    f = await fixtures();
  });

  it("the document is OpenAPI 3.1 with operations, and every operation has a way to succeed here", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(operations.length).toBeGreaterThan(10);
    expect(operations.map((o) => o.key).filter((k) => !succeed[k])).toEqual([]);
    expect(Object.keys(succeed).filter((k) => !operations.some((o) => o.key === k))).toEqual([]);
  });

  it("the router registers exactly the documented operations (besides the document itself)", () => {
    const registered = v1.routes
      .filter((r) => r.method !== "ALL" && r.path !== "/openapi.json")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect([...new Set(registered)].sort()).toEqual(operations.map((o) => o.key).sort());
  });

  for (const { key, method, path, op } of operations) {
    const M = method.toUpperCase();

    it(`${key}: each documented status happens, with the documented body`, async () => {
      const statuses = Object.keys(op.responses).map(Number);
      const made = new Set<number>();
      for (const call of await succeed[key]!(f)) {
        const init = { ...call.init, method: M, headers: { ...f.auth, ...(call.init?.headers as object) } };
        const status = await conforms(key, op, await fetchApp(BASE + call.path, init), "success");
        expect(status, `${key}: ${call.path}`).toBe(call.status);
        made.add(status);
      }
      for (const status of statuses.filter((s) => s >= 400)) {
        const { path: p, init } = await makeError(status, method, path, op, f);
        const got = await conforms(key, op, await fetchApp(BASE + p, init), `made to answer ${status}`);
        expect(got, `${key}: asked ${p} to answer ${status}`).toBe(status);
        made.add(got);
      }
      expect([...made].sort(), key).toEqual(statuses.sort());
    });

    it(`${key}: optional parameters may be left out, nullable ones may be null`, async () => {
      const [ok] = await succeed[key]!(f);
      // The success call sends no query string, so every query parameter must be optional in the document;
      // and where the document allows null, null must be as good as absent.
      expect(ok!.path, key).not.toContain("?");
      for (const p of queryParams(op)) {
        expect(p.required, `${key} ${p.name}`).toBe(false);
        if (!types(p.schema).includes("null")) continue;
        const res = await fetchApp(`${BASE}${ok!.path}?${p.name}=null`, { method: M, headers: f.auth });
        expect(await conforms(key, op, res, `${p.name}=null`), `${key} ${p.name}=null`).toBe(ok!.status);
      }
    });

    it(`${key}: bad requests get a documented status and the error shape`, async () => {
      for (const [p, init] of await badRequests(M, path, op, f)) {
        const status = await conforms(key, op, await fetchApp(BASE + p, init), `${p} ${JSON.stringify(init)}`);
        expect(status, `${key} ${p} ${JSON.stringify(init).slice(0, 200)}`).toBeGreaterThanOrEqual(200);
      }
    });
  }

  it("a documented path asked with a method it does not have answers 405 with Allow naming the documented ones", async () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      const documented = Object.keys(ops).map((m) => m.toUpperCase());
      if (documented.includes("GET")) documented.push("HEAD");
      for (const M of METHODS.filter((m) => !documented.includes(m))) {
        const res = await fetchApp(BASE + fill(path, UNKNOWN_ID), { method: M, headers: f.auth });
        const text = await res.text();
        const seen = `${M} ${path}: ${res.status} Allow=${res.headers.get("Allow")} ${text}`;
        expect(res.status, seen).toBe(405);
        expect(new Set(res.headers.get("Allow")?.split(", ")), seen).toEqual(new Set(documented));
        if (M === "HEAD") continue; // no body, by definition
        expect(JSON.parse(text), seen).toEqual({ error: { code: "method_not_allowed", message: expect.any(String) } });
      }
    }
  });
});
