/**
 * Webhooks (worker/workspace/webhooks.ts), rule by rule, on the module called
 * directly over a fresh workspace object's real storage, with the clock and
 * the network set by the test: the signature a receiver checks, which
 * endpoints an event is queued for, what a delivery sends, how an answer is
 * logged, the retry schedule and when it gives up, which deliveries a run
 * sends, and how long the log is kept. (`api-v1.test.ts` and
 * `webhook-targets.test.ts` cover the routes and the real receiver.)
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { Refused } from "../worker/errors";
import type { WebhookEvent } from "../worker/protocol";
import type { WorkspaceContext } from "../worker/workspace/context";
import type { Scheduler } from "../worker/workspace/scheduler";
import { signWebhook, verifyWebhookSignature, Webhooks } from "../worker/workspace/webhooks";
import { hmacHex, inFreshWorkspace } from "./helpers";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A clock half-way through a second: signatures carry whole seconds. */
const T0 = 1_700_000_000_500;
const T0_SECONDS = 1_700_000_000;
let now = T0;

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

type Sent = { url: string; init: RequestInit };

interface Harness {
  w: WorkspaceContext;
  hooks: Webhooks;
  /** Times the alarm was asked to fire at. */
  armed: number[];
  /** Requests made to the (fake) network, in order. */
  sent: Sent[];
}

/**
 * Runs `fn` with a Webhooks module over a fresh workspace's storage, the clock
 * at T0 (`now = …` moves it), a scheduler that only records what it is asked,
 * and a network where `/status/<n>` answers n with no body, `/down` fails
 * below HTTP, and anything else answers 200 "ok".
 */
async function withHooks<T>(fn: (h: Harness) => T | Promise<T>): Promise<T> {
  return await inFreshWorkspace("webhook-rules", async (w) => {
    now = T0;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    const armed: number[] = [];
    const scheduler = {
      register: () => ({
        arm: async (at: number) => {
          armed.push(at);
        },
      }),
    } as unknown as Scheduler;
    const sent: Sent[] = [];
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = String(input);
      sent.push({ url, init });
      const path = new URL(url).pathname;
      if (path === "/down") throw new TypeError("connect ECONNREFUSED 10.0.0.7:443");
      const status = /^\/status\/(\d+)$/.exec(path);
      if (status) return { status: Number(status[1]), body: null } as unknown as Response;
      return new Response("ok");
    });
    return fn({ w, hooks: new Webhooks(w, scheduler), armed, sent });
  });
}

/** An endpoint stored directly (as an older version might have), created at `createdAt`. */
function storeHook(w: WorkspaceContext, id: string, url: string, events: WebhookEvent[], createdAt = now): string {
  w.sql.exec(
    "INSERT INTO webhooks (id, url, secret, events, created_at) VALUES (?, ?, ?, ?, ?)",
    id,
    url,
    `whsec_${id}`,
    JSON.stringify(events),
    createdAt,
  );
  return id;
}

type Seed = {
  next?: number;
  status?: string;
  attempts?: number;
  created?: number;
  lastError?: string | null;
  responseStatus?: number | null;
  deliveredAt?: number | null;
  event?: string;
  payload?: string;
};

/** A delivery row for `hookId`, due now and never tried unless told otherwise. */
function seed(w: WorkspaceContext, hookId: string, id: string, s: Seed = {}): string {
  w.sql.exec(
    `INSERT INTO webhook_deliveries (id, webhook_id, event, payload, status, attempts, next_attempt_at, last_error,
       response_status, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id,
    hookId,
    s.event ?? "message.created",
    s.payload ?? `{"delivery":"${id}"}`,
    s.status ?? "pending",
    s.attempts ?? 0,
    s.next ?? now,
    s.lastError ?? null,
    s.responseStatus ?? null,
    s.created ?? now,
    s.deliveredAt ?? null,
  );
  return id;
}

type Row = {
  id: string;
  webhook_id: string;
  event: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  response_status: number | null;
  created_at: number;
  delivered_at: number | null;
};

const row = (w: WorkspaceContext, id: string): Row =>
  w.sql.exec<Row>("SELECT * FROM webhook_deliveries WHERE id = ?", id).one();
const rows = (w: WorkspaceContext): Row[] => w.sql.exec<Row>("SELECT * FROM webhook_deliveries ORDER BY id").toArray();
/** The fields a run changes. */
const outcome = (r: Row) => ({
  status: r.status,
  attempts: r.attempts,
  responseStatus: r.response_status,
  lastError: r.last_error,
  next: r.next_attempt_at,
  deliveredAt: r.delivered_at,
});
const refusal = (fn: () => unknown): { code: string; message: string } => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Refused);
    const r = err as Refused;
    return { code: r.code, message: r.message };
  }
  throw new Error("not refused");
};

describe("signatures", () => {
  it("say t=<whole unix seconds of the time given>,v1=<hex HMAC-SHA256 of `<t>.<body>` with the secret>", async () => {
    // Reference values computed outside Microchat (Node's crypto.createHmac); each has bytes below 0x10.
    expect(await signWebhook("whsec_test", '{"ping":1}', 1_700_000_000_999)).toBe(
      "t=1700000000,v1=5d5bf7cb485176844dc70d01a446c0c8b471e182640f4c3495ad77e9dbcc05f4",
    );
    expect(await signWebhook("whsec_test", "{}", 1_700_000_000_000)).toBe(
      "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91",
    );
    now = T0;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    expect(await signWebhook("whsec_test", "{}"), "signed now when no time is given").toBe(
      "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91",
    );
  });

  it("verify accepts exactly a signature of this body with this secret", async () => {
    const at = T0;
    const body = '{"ping":1}';
    const good = await signWebhook("whsec_test", body, at);
    const hex = good.slice(good.indexOf("v1=") + 3);
    const v = (header: string | null, b = body, secret = "whsec_test") =>
      verifyWebhookSignature(secret, header, b, 300, at);
    expect(await v(good)).toBe(true);
    expect(await v(good, "{}"), "another body").toBe(false);
    expect(await v(good, body, "whsec_other"), "another secret").toBe(false);
    const lastFlipped = hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");
    expect(await v(`t=${T0_SECONDS},v1=${lastFlipped}`), "one hex digit off, the last").toBe(false);
    const firstFlipped = (hex.startsWith("0") ? "1" : "0") + hex.slice(1);
    expect(await v(`t=${T0_SECONDS},v1=${firstFlipped}`), "one hex digit off, the first").toBe(false);
    expect(await v(`t=${T0_SECONDS},v1=${hex.toUpperCase()}`), "upper-case hex").toBe(false);
    expect(await v(`t=${T0_SECONDS - 1},v1=${hex}`), "another second than the one signed").toBe(false);
  });

  it("verify takes nothing but the exact header form", async () => {
    const at = T0;
    const body = "{}";
    const good = await signWebhook("whsec_test", body, at);
    const hex = good.slice(good.indexOf("v1=") + 3);
    const v = (header: string | null) => verifyWebhookSignature("whsec_test", header, body, 300, at);
    expect(await v(good)).toBe(true);
    for (const bad of [
      null,
      "",
      `x${good}`,
      ` ${good}`,
      `${good} `,
      `${good}0`,
      `${good},v0=abc`,
      `t=${T0_SECONDS},v1=${hex.slice(0, 63)}`,
      `t=${T0_SECONDS},v0=${hex}`,
      `v1=${hex},t=${T0_SECONDS}`,
      `t=${T0_SECONDS}`,
      `t=-${T0_SECONDS},v1=${hex}`,
      `t=${T0_SECONDS}.5,v1=${hex}`,
    ])
      expect(await v(bad), String(bad)).toBe(false);
    // No digits at all is not "second 0", even signed as such and checked at 0.
    const zero = await hmacHex("whsec_test", "0.{}");
    expect(await verifyWebhookSignature("whsec_test", `t=0,v1=${zero}`, "{}", 300, 0), "t=0 itself").toBe(true);
    expect(await verifyWebhookSignature("whsec_test", `t=,v1=${zero}`, "{}", 300, 0)).toBe(false);
  });

  it("verify allows the clocks to differ by the tolerance either way, inclusive, and no more", async () => {
    const sig = await signWebhook("whsec_test", "{}", T0);
    const t = T0_SECONDS * SECOND;
    const v = (at: number, tolerance?: number) => verifyWebhookSignature("whsec_test", sig, "{}", tolerance, at);
    expect(await v(t + 300 * SECOND), "300 s later").toBe(true);
    expect(await v(t + 300 * SECOND + 1), "300.001 s later").toBe(false);
    expect(await v(t - 300 * SECOND), "300 s earlier").toBe(true);
    expect(await v(t - 300 * SECOND - 1), "300.001 s earlier").toBe(false);
    expect(await v(t + 10 * SECOND, 10), "a tolerance of 10 s").toBe(true);
    expect(await v(t + 11 * SECOND, 10)).toBe(false);
    now = t + 300 * SECOND;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    expect(await verifyWebhookSignature("whsec_test", sig, "{}"), "5 minutes by default, at the current time").toBe(
      true,
    );
    now += 1;
    expect(await verifyWebhookSignature("whsec_test", sig, "{}")).toBe(false);
  });
});

describe("endpoints", () => {
  it("an endpoint is stored with its events, the time and a new secret, which is returned once", async () => {
    const { added, listed, stored } = await withHooks(({ w, hooks }) => {
      const added = hooks.add("https://hooks.test/a", ["message.created", "rating.submitted"]);
      const stored = w.sql.exec<{ secret: string; events: string }>("SELECT secret, events FROM webhooks").one();
      return { added, listed: hooks.list(), stored };
    });
    expect(added.webhook).toEqual({
      id: added.webhook.id,
      url: "https://hooks.test/a",
      events: ["message.created", "rating.submitted"],
      createdAt: T0,
    });
    expect(added.webhook.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(added.secret).toMatch(/^whsec_[A-Za-z0-9_-]{44}$/);
    expect(stored).toEqual({ secret: added.secret, events: '["message.created","rating.submitted"]' });
    expect(listed).toEqual([added.webhook]);
  });

  it("an endpoint that is not a public HTTPS address is refused with the reason, and not stored", async () => {
    const { refused, listed } = await withHooks(({ hooks }) => ({
      refused: refusal(() => hooks.add("http://hooks.test/plain", ["message.created"])),
      listed: hooks.list(),
    }));
    expect(refused).toEqual({ code: "bad_request", message: "The webhook URL must start with https://" });
    expect(listed).toEqual([]);
  });

  it("are listed oldest first, whatever order they were stored in", async () => {
    const listed = await withHooks(({ hooks }) => {
      now = T0 + 2000;
      const late = hooks.add("https://hooks.test/late", ["conversation.left"]).webhook;
      now = T0 + 1000;
      const early = hooks.add("https://hooks.test/early", ["conversation.joined", "conversation.deleted"]).webhook;
      return { listed: hooks.list(), ids: [early.id, late.id] };
    });
    expect(listed.listed).toEqual([
      {
        id: listed.ids[0],
        url: "https://hooks.test/early",
        events: ["conversation.joined", "conversation.deleted"],
        createdAt: T0 + 1000,
      },
      { id: listed.ids[1], url: "https://hooks.test/late", events: ["conversation.left"], createdAt: T0 + 2000 },
    ]);
  });

  it("removing one returns its URL and drops its delivery log, no other; an unknown one is not found", async () => {
    const r = await withHooks(({ w, hooks }) => {
      const a = hooks.add("https://hooks.test/a", ["message.created"]).webhook.id;
      const b = hooks.add("https://hooks.test/b", ["message.created"]).webhook.id;
      hooks.queue("message.created", { n: 1 });
      const url = hooks.remove(a);
      const left = rows(w).map((x) => x.webhook_id);
      const again = refusal(() => hooks.remove(a));
      const log = refusal(() => hooks.deliveries(a));
      hooks.queue("message.created", { n: 2 });
      return { url, left, again, log, b, after: rows(w).map((x) => x.webhook_id), listed: hooks.list() };
    });
    expect(r.url).toBe("https://hooks.test/a");
    expect(r.left).toEqual([r.b]);
    expect(r.again).toEqual({ code: "not_found", message: "No such webhook" });
    expect(r.log).toEqual({ code: "not_found", message: "No such webhook" });
    expect(r.after, "a removed endpoint gets no more events").toEqual([r.b, r.b]);
    expect(r.listed.map((h) => h.url)).toEqual(["https://hooks.test/b"]);
  });

  it("the delivery log is the 50 newest of that endpoint, newest first, every field as stored", async () => {
    const r = await withHooks(({ w, hooks }) => {
      const id = hooks.add("https://hooks.test/log", ["message.created"]).webhook.id;
      const other = hooks.add("https://hooks.test/other", ["message.created"]).webhook.id;
      for (let i = 0; i < 51; i++) seed(w, id, `d${String(i).padStart(2, "0")}`, { created: T0 + i });
      seed(w, other, "other", { created: T0 + 100 });
      seed(w, id, "full", {
        created: T0 + 60,
        event: "conversation.joined",
        status: "delivered",
        attempts: 3,
        lastError: "HTTP 502",
        responseStatus: 200,
        deliveredAt: T0 + 90,
      });
      return { log: hooks.deliveries(id), empty: hooks.deliveries(other).length };
    });
    expect(r.log).toHaveLength(50);
    expect(r.log[0]).toEqual({
      id: "full",
      event: "conversation.joined",
      status: "delivered",
      attempts: 3,
      lastError: "HTTP 502",
      responseStatus: 200,
      createdAt: T0 + 60,
      deliveredAt: T0 + 90,
    });
    expect(r.log[1]).toEqual({
      id: "d50",
      event: "message.created",
      status: "pending",
      attempts: 0,
      lastError: null,
      responseStatus: null,
      createdAt: T0 + 50,
      deliveredAt: null,
    });
    expect(r.log.at(-1)!.id, "the two oldest are left out").toBe("d02");
    expect(r.empty).toBe(1);
  });
});

describe("queueing", () => {
  it("an event is queued once for each endpoint subscribed to it, with its payload, due now, and the alarm armed", async () => {
    const r = await withHooks(({ w, hooks, armed }) => {
      const a = hooks.add("https://hooks.test/a", ["message.created", "conversation.left"]).webhook.id;
      const b = hooks.add("https://hooks.test/b", ["message.created"]).webhook.id;
      hooks.add("https://hooks.test/c", ["conversation.left", "rating.submitted"]);
      now = T0 + 5000;
      hooks.queue("message.created", { conversationId: "c1", text: "hi" });
      return { a, b, rows: rows(w), armed: [...armed] };
    });
    expect(r.rows.map((x) => x.webhook_id).sort()).toEqual([r.a, r.b].sort());
    for (const x of r.rows) {
      expect(x).toMatchObject({
        event: "message.created",
        status: "pending",
        attempts: 0,
        next_attempt_at: T0 + 5000,
        created_at: T0 + 5000,
        last_error: null,
        response_status: null,
        delivered_at: null,
      });
      expect(JSON.parse(x.payload)).toEqual({
        id: x.id,
        event: "message.created",
        createdAt: T0 + 5000,
        data: { conversationId: "c1", text: "hi" },
      });
    }
    expect(r.rows[0]!.id).not.toBe(r.rows[1]!.id);
    expect(r.armed).toEqual([T0 + 5000]);
  });

  it("an event nobody wants queues nothing and does not arm the alarm", async () => {
    const r = await withHooks(({ w, hooks, armed }) => {
      hooks.queue("message.created", { n: 1 });
      const none = { rows: rows(w).length, armed: [...armed] };
      hooks.add("https://hooks.test/a", ["conversation.created"]);
      hooks.queue("message.created", { n: 2 });
      return { none, other: { rows: rows(w).length, armed: [...armed] } };
    });
    expect(r.none).toEqual({ rows: 0, armed: [] });
    expect(r.other, "subscribed to another event only").toEqual({ rows: 0, armed: [] });
  });

  it("a past event goes to the endpoints that existed at that moment, inclusive; a present one to all", async () => {
    const r = await withHooks(({ w, hooks }) => {
      now = T0 + 1000;
      const before = hooks.add("https://hooks.test/before", ["message.created"]).webhook.id;
      now = T0 + 2000;
      const same = hooks.add("https://hooks.test/same", ["message.created"]).webhook.id;
      now = T0 + 2001;
      const after = hooks.add("https://hooks.test/after", ["message.created"]).webhook.id;
      const to = () => rows(w).map((x) => x.webhook_id);
      hooks.queue("message.created", { n: 1 }, T0 + 2000);
      const past = to().sort();
      w.sql.exec("DELETE FROM webhook_deliveries");
      hooks.queue("message.created", { n: 2 });
      const present = to().sort();
      w.sql.exec("DELETE FROM webhook_deliveries");
      hooks.queue("message.created", { n: 3 }, T0 + 999);
      return { past, present, early: to(), before, same, after };
    });
    expect(r.past).toEqual([r.before, r.same].sort());
    expect(r.present).toEqual([r.before, r.same, r.after].sort());
    expect(r.early, "before any endpoint existed").toEqual([]);
  });

  it("endpoints added or removed after the first event are seen by the next one", async () => {
    const r = await withHooks(({ w, hooks }) => {
      const a = hooks.add("https://hooks.test/a", ["message.created"]).webhook.id;
      hooks.queue("message.created", {});
      const b = hooks.add("https://hooks.test/b", ["message.created"]).webhook.id;
      hooks.queue("message.created", {});
      hooks.remove(a);
      hooks.queue("message.created", {});
      return { a, b, to: rows(w).map((x) => x.webhook_id) };
    });
    expect(r.to).toEqual([r.b, r.b]);
  });

  it("wantedSince is the creation of the earliest endpoint subscribed to the event, or null", async () => {
    const r = await withHooks(({ hooks }) => {
      const none = hooks.wantedSince("message.created");
      now = T0 - 9000;
      hooks.add("https://hooks.test/other", ["conversation.created"]);
      now = T0 + 2000;
      hooks.add("https://hooks.test/middle", ["message.created"]);
      now = T0 + 1000;
      hooks.add("https://hooks.test/earliest", ["conversation.left", "message.created"]);
      now = T0 + 3000;
      hooks.add("https://hooks.test/latest", ["message.created"]);
      return {
        none,
        message: hooks.wantedSince("message.created"),
        left: hooks.wantedSince("conversation.left"),
        created: hooks.wantedSince("conversation.created"),
        rating: hooks.wantedSince("rating.submitted"),
      };
    });
    expect(r).toEqual({ none: null, message: T0 + 1000, left: T0 + 1000, created: T0 - 9000, rating: null });
  });
});

describe("delivery", () => {
  it("posts the payload as stored, signed with the endpoint's secret at the time of sending, and not following redirects", async () => {
    const r = await withHooks(async ({ w, hooks, sent }) => {
      const { webhook, secret } = hooks.add("https://hooks.test/ok", ["conversation.joined"]);
      hooks.queue("conversation.joined", { conversationId: "c9" });
      const [queued] = rows(w);
      now = T0 + 42_000;
      await hooks.run();
      return { webhook, secret, queued: queued!, sent, after: row(w, queued!.id) };
    });
    expect(r.sent).toHaveLength(1);
    const [{ url, init }] = r.sent as [Sent];
    const t = Math.floor((T0 + 42_000) / 1000);
    expect(url).toBe("https://hooks.test/ok");
    expect(init.method).toBe("POST");
    expect(init.body).toBe(r.queued.payload);
    expect(init.headers).toEqual({
      "Content-Type": "application/json",
      "User-Agent": "Microchat-Webhooks/1",
      "Microchat-Event": "conversation.joined",
      "Microchat-Delivery": r.queued.id,
      "Microchat-Signature": `t=${t},v1=${await hmacHex(r.secret, `${t}.${r.queued.payload}`)}`,
    });
    expect(init.redirect).toBe("manual");
    expect(init.signal).toBeInstanceOf(AbortSignal);
    expect(init.signal!.aborted, "a time limit, not an aborted request").toBe(false);
    expect(Object.keys(init).sort()).toEqual(["body", "headers", "method", "redirect", "signal"]);
    expect(outcome(r.after)).toEqual({
      status: "delivered",
      attempts: 1,
      responseStatus: 200,
      lastError: null,
      next: T0,
      deliveredAt: T0 + 42_000,
    });
  });

  it("a 2xx answer delivers, clearing the last error; anything below 200 or from 300 up is an error to retry", async () => {
    const r = await withHooks(async ({ w, hooks }) => {
      const ids: Record<string, string> = {};
      for (const s of [199, 200, 204, 299, 300, 302, 404, 500]) {
        const hook = storeHook(w, `h${s}`, `https://hooks.test/status/${s}`, ["message.created"]);
        ids[s] = seed(w, hook, `d${s}`, { attempts: 2, lastError: "HTTP 503", responseStatus: 503 });
      }
      await hooks.run();
      return Object.fromEntries(Object.entries(ids).map(([s, id]) => [s, outcome(row(w, id))]));
    });
    const delivered = (s: number) => ({
      status: "delivered",
      attempts: 3,
      responseStatus: s,
      lastError: null,
      next: T0,
      deliveredAt: T0,
    });
    const retried = (s: number) => ({
      status: "pending",
      attempts: 3,
      responseStatus: s,
      lastError: `HTTP ${s}`,
      next: T0 + 2 * MINUTE,
      deliveredAt: null,
    });
    expect(r).toEqual({
      199: retried(199),
      200: delivered(200),
      204: delivered(204),
      299: delivered(299),
      300: retried(300),
      302: retried(302),
      404: retried(404),
      500: retried(500),
    });
  });

  it("a failure below HTTP is logged as one generic text, with no status, and retried", async () => {
    const r = await withHooks(async ({ w, hooks }) => {
      const hook = storeHook(w, "down", "https://hooks.test/down", ["message.created"]);
      seed(w, hook, "d1", { responseStatus: 500, lastError: "HTTP 500" });
      await hooks.run();
      return outcome(row(w, "d1"));
    });
    expect(r).toEqual({
      status: "pending",
      attempts: 1,
      responseStatus: null,
      lastError: "delivery failed (network error)",
      next: T0 + 30 * SECOND,
      deliveredAt: null,
    });
  });

  it("retries after 30 s, 1, 2, 4, 8, 16 and 32 min, and the 8th failure marks it failed (next time capped at 1 h)", async () => {
    const r = await withHooks(async ({ w, hooks, sent }) => {
      const hook = storeHook(w, "h", "https://hooks.test/status/500", ["message.created"]);
      seed(w, hook, "d");
      const steps: { status: string; attempts: number; wait: number }[] = [];
      for (let i = 0; i < 8; i++) {
        const before = row(w, "d").next_attempt_at;
        now = before - 1;
        await hooks.run();
        expect(row(w, "d").attempts, "not sent a millisecond early").toBe(i);
        now = before;
        await hooks.run();
        const after = row(w, "d");
        steps.push({ status: after.status, attempts: after.attempts, wait: after.next_attempt_at - now });
      }
      now = row(w, "d").next_attempt_at + DAY;
      await hooks.run();
      return { steps, sends: sent.length, final: row(w, "d") };
    });
    expect(r.steps).toEqual([
      { status: "pending", attempts: 1, wait: 30 * SECOND },
      { status: "pending", attempts: 2, wait: MINUTE },
      { status: "pending", attempts: 3, wait: 2 * MINUTE },
      { status: "pending", attempts: 4, wait: 4 * MINUTE },
      { status: "pending", attempts: 5, wait: 8 * MINUTE },
      { status: "pending", attempts: 6, wait: 16 * MINUTE },
      { status: "pending", attempts: 7, wait: 32 * MINUTE },
      { status: "failed", attempts: 8, wait: HOUR },
    ]);
    expect(r.sends, "a failed delivery is not sent again").toBe(8);
    expect(r.final).toMatchObject({ status: "failed", attempts: 8, last_error: "HTTP 500", response_status: 500 });
  });

  it("a delivery that succeeds on its last try is delivered, not failed", async () => {
    const r = await withHooks(async ({ w, hooks }) => {
      const hook = storeHook(w, "h", "https://hooks.test/ok", ["message.created"]);
      seed(w, hook, "d", { attempts: 7, lastError: "HTTP 500", responseStatus: 500 });
      await hooks.run();
      return outcome(row(w, "d"));
    });
    expect(r).toEqual({
      status: "delivered",
      attempts: 8,
      responseStatus: 200,
      lastError: null,
      next: T0,
      deliveredAt: T0,
    });
  });

  it("an endpoint that is not a public HTTPS address is never called: the delivery fails at once, saying why", async () => {
    const r = await withHooks(async ({ w, hooks, sent }) => {
      const hook = storeHook(w, "legacy", "https://localhost/admin", ["message.created"]);
      seed(w, hook, "d", { attempts: 2, responseStatus: 500, lastError: "HTTP 500" });
      await hooks.run();
      return { sent: sent.length, after: outcome(row(w, "d")) };
    });
    expect(r.sent).toBe(0);
    expect(r.after).toEqual({
      status: "failed",
      attempts: 3,
      responseStatus: null,
      lastError:
        "Not sent: The webhook URL names a host that is only reachable inside a network (localhost); use a public host name",
      next: T0,
      deliveredAt: null,
    });
  });

  it("a run sends what is due now or earlier, not later, and nothing delivered or failed", async () => {
    const r = await withHooks(async ({ w, hooks, sent }) => {
      const hook = storeHook(w, "h", "https://hooks.test/ok", ["message.created"]);
      seed(w, hook, "due-now");
      seed(w, hook, "overdue", { next: T0 - HOUR });
      seed(w, hook, "later", { next: T0 + 1 });
      seed(w, hook, "done", { next: T0 - HOUR, status: "delivered", attempts: 1 });
      seed(w, hook, "gave-up", { next: T0 - HOUR, status: "failed", attempts: 8 });
      await hooks.run();
      return {
        sent: sent.map((s) => (JSON.parse(s.init.body as string) as { delivery: string }).delivery).sort(),
        attempts: rows(w).map((x) => [x.id, x.status, x.attempts]),
      };
    });
    expect(r.sent).toEqual(["due-now", "overdue"]);
    expect(r.attempts).toEqual([
      ["done", "delivered", 1],
      ["due-now", "delivered", 1],
      ["gave-up", "failed", 8],
      ["later", "pending", 0],
      ["overdue", "delivered", 1],
    ]);
  });

  it("a run sends at most 25, those waiting longest first; the rest go on the next run", async () => {
    const r = await withHooks(async ({ w, hooks, sent }) => {
      const hook = storeHook(w, "h", "https://hooks.test/ok", ["message.created"]);
      // Stored newest-due first, so the order is the due time's, not the table's.
      for (let i = 26; i >= 0; i--) seed(w, hook, `d${String(i).padStart(2, "0")}`, { next: T0 - 100 + i });
      await hooks.run();
      const first = {
        sends: sent.length,
        left: rows(w)
          .filter((x) => x.status === "pending")
          .map((x) => x.id),
      };
      await hooks.run();
      return { first, second: sent.length - first.sends };
    });
    expect(r.first).toEqual({ sends: 25, left: ["d25", "d26"] });
    expect(r.second).toBe(2);
  });

  it("delivered and failed entries are kept 7 days to the millisecond; pending ones are kept however old", async () => {
    const left = await withHooks(async ({ w, hooks }) => {
      const hook = storeHook(w, "h", "https://hooks.test/ok", ["message.created"]);
      const old = T0 - 7 * DAY;
      seed(w, hook, "delivered-7d", { status: "delivered", created: old });
      seed(w, hook, "delivered-7d+1ms", { status: "delivered", created: old - 1 });
      seed(w, hook, "failed-7d", { status: "failed", created: old });
      seed(w, hook, "failed-7d+1ms", { status: "failed", created: old - 1 });
      seed(w, hook, "pending-30d", { created: T0 - 30 * DAY, next: T0 + HOUR });
      await hooks.run();
      return rows(w).map((x) => x.id);
    });
    expect(left).toEqual(["delivered-7d", "failed-7d", "pending-30d"]);
  });

  it("nextAt is the earliest next attempt of a pending delivery, or null", async () => {
    const r = await withHooks(({ w, hooks }) => {
      const none = hooks.nextAt();
      const hook = storeHook(w, "h", "https://hooks.test/ok", ["message.created"]);
      seed(w, hook, "done", { status: "delivered", next: T0 - 3 * HOUR });
      seed(w, hook, "gave-up", { status: "failed", next: T0 - 2 * HOUR });
      const onlyDone = hooks.nextAt();
      seed(w, hook, "b", { next: T0 + 2 * HOUR });
      seed(w, hook, "a", { next: T0 + HOUR });
      return { none, onlyDone, next: hooks.nextAt() };
    });
    expect(r).toEqual({ none: null, onlyDone: null, next: T0 + HOUR });
  });
});
