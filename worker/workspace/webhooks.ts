/**
 * Webhooks: the endpoints admins register, the queue of deliveries, their
 * signatures and their retries.
 *
 * An event is queued as one delivery row per subscribed endpoint, in the
 * same storage write as whatever caused it, and sent later by the alarm, so
 * a slow or failing receiver never holds up the workspace. Failures are
 * retried with backoff, then marked failed; the log is kept for 7 days.
 * An endpoint must be a public HTTPS address (validate/webhook-url.ts),
 * checked when it is added and again before each delivery; the log says
 * "HTTP <status>" or one generic network error, never the runtime's own
 * words, which would tell a closed port from a filtered one.
 *
 * Each delivery carries
 * `Microchat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
 * receivers recompute it with their endpoint's secret and reject old
 * timestamps (replay). `verifyWebhookSignature` is what a receiver runs.
 */
import { refuse } from "../errors";
import { randomId } from "../lib/crypto";
import type { WebhookDeliveryInfo, WebhookEvent, WebhookInfo } from "../protocol";
import { webhookTargetProblem } from "../validate/webhook-url";
import type { WorkspaceContext } from "./context";
import type { AlarmHandle, Scheduler, ScheduledJob } from "./scheduler";

const DAY_MS = 24 * 3600 * 1000;
/** Deliveries sent per alarm run; the rest wait for the next run. */
const DELIVERY_BATCH = 25;

const enc = new TextEncoder();

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `Microchat-Signature` header value for `body`, signed at `at`. */
export async function signWebhook(secret: string, body: string, at = Date.now()): Promise<string> {
  const t = Math.floor(at / 1000);
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

/** True when `header` is a valid signature of `body` made within `toleranceSeconds`. */
export async function verifyWebhookSignature(
  secret: string,
  header: string | null,
  body: string,
  toleranceSeconds = 300,
  now = Date.now(),
): Promise<boolean> {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const expected = await hmacHex(secret, `${t}.${body}`);
  // Constant-time comparison of equal-length hex strings.
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ m[2]!.charCodeAt(i);
  return diff === 0;
}

/** Delay before attempt `n` (1-based): 30 s, 1 min, 2 min, … capped at 1 h. */
function backoffMs(attempt: number): number {
  return Math.min(3600_000, 30_000 * 2 ** Math.max(0, attempt - 1));
}

/** What the delivery log says for any failure below HTTP: refused, reset, timed out, unresolvable. */
const DELIVERY_NETWORK_ERROR = "delivery failed (network error)";

/** After this many failed attempts a delivery is marked failed. */
const MAX_WEBHOOK_ATTEMPTS = 8;

function refuseUnknown(): never {
  refuse("not_found", "No such webhook");
}

type Subscription = { id: string; events: WebhookEvent[]; createdAt: number };

type DeliveryRow = {
  id: string;
  event: string;
  status: string;
  attempts: number;
  last_error: string | null;
  response_status: number | null;
  created_at: number;
  delivered_at: number | null;
};

/** Webhook endpoints and their delivery queue; a job of the workspace's alarm. */
export class Webhooks implements ScheduledJob {
  private readonly alarm: AlarmHandle;
  /**
   * Subscriptions, read once per instance and dropped when one is added or
   * removed. Memory only: after hibernation the object starts empty and
   * reads them again, so the cache can never outlive a change.
   */
  private hooks: Subscription[] | null = null;

  constructor(
    private readonly w: WorkspaceContext,
    scheduler: Scheduler,
  ) {
    this.alarm = scheduler.register(this);
  }

  add(url: string, events: WebhookEvent[]): { webhook: WebhookInfo; secret: string } {
    // The route's schema checked this already; an endpoint is never stored unchecked.
    const problem = webhookTargetProblem(url);
    if (problem) refuse("bad_request", problem);
    const webhook: WebhookInfo = { id: randomId(), url, events, createdAt: Date.now() };
    const secret = `whsec_${randomId()}${randomId()}`;
    this.w.sql.exec(
      "INSERT INTO webhooks (id, url, secret, events, created_at) VALUES (?, ?, ?, ?, ?)",
      webhook.id,
      url,
      secret,
      JSON.stringify(events),
      webhook.createdAt,
    );
    this.hooks = null;
    return { webhook, secret };
  }

  list(): WebhookInfo[] {
    return this.w.sql
      .exec<{ id: string; url: string; events: string; created_at: number }>(
        "SELECT id, url, events, created_at FROM webhooks ORDER BY created_at",
      )
      .toArray()
      .map((r) => ({ id: r.id, url: r.url, events: JSON.parse(r.events) as WebhookEvent[], createdAt: r.created_at }));
  }

  /** Removes an endpoint and its delivery log; returns its URL. */
  remove(id: string): string {
    const row = this.w.sql.exec<{ url: string }>("SELECT url FROM webhooks WHERE id = ?", id).toArray()[0];
    if (!row) refuseUnknown();
    this.w.sql.exec("DELETE FROM webhooks WHERE id = ?", id);
    this.hooks = null;
    this.w.sql.exec("DELETE FROM webhook_deliveries WHERE webhook_id = ?", id);
    return row.url;
  }

  /** The 50 most recent deliveries of an endpoint, for the admins' log. */
  deliveries(id: string): WebhookDeliveryInfo[] {
    if (this.w.sql.exec("SELECT 1 FROM webhooks WHERE id = ?", id).toArray().length === 0) refuseUnknown();
    return this.w.sql
      .exec<DeliveryRow>(
        `SELECT id, event, status, attempts, last_error, response_status, created_at, delivered_at
         FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC LIMIT 50`,
        id,
      )
      .toArray()
      .map((r) => ({
        id: r.id,
        event: r.event as WebhookEvent,
        status: r.status as WebhookDeliveryInfo["status"],
        attempts: r.attempts,
        lastError: r.last_error,
        responseStatus: r.response_status,
        createdAt: r.created_at,
        deliveredAt: r.delivered_at,
      }));
  }

  private subscriptions(): Subscription[] {
    this.hooks ??= this.w.sql
      .exec<{ id: string; events: string; created_at: number }>("SELECT id, events, created_at FROM webhooks")
      .toArray()
      .map((h) => ({ id: h.id, events: JSON.parse(h.events) as WebhookEvent[], createdAt: h.created_at }));
    return this.hooks;
  }

  /**
   * Since when some endpoint wants `event` (the earliest such endpoint's
   * creation), or null if none does: conversations send their messages
   * along with index reports only while someone listens.
   */
  wantedSince(event: WebhookEvent): number | null {
    return this.subscriptions()
      .filter((h) => h.events.includes(event))
      .reduce<number | null>((min, h) => (min === null || h.createdAt < min ? h.createdAt : min), null);
  }

  /**
   * Queues `event` for every endpoint subscribed to it. `happenedAt`, when
   * given, skips endpoints created after the fact (a report catching up on
   * older messages does not replay them to a new subscriber).
   */
  queue(event: WebhookEvent, data: object, happenedAt?: number): void {
    const hooks = this.subscriptions().filter(
      (h) => h.events.includes(event) && (happenedAt === undefined || h.createdAt <= happenedAt),
    );
    if (hooks.length === 0) return;
    const now = Date.now();
    for (const h of hooks) {
      const id = randomId();
      const payload = JSON.stringify({ id, event, createdAt: now, data });
      this.w.sql.exec(
        "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        id,
        h.id,
        event,
        payload,
        now,
        now,
      );
    }
    // The rows are written already; arming the alarm must not hold up the caller.
    this.w.ctx.waitUntil(this.alarm.arm(now));
  }

  /** The alarm's part: sends due deliveries; failures are retried with backoff, then marked failed. */
  async run(): Promise<void> {
    const due = this.w.sql
      .exec<{ id: string; url: string; secret: string; payload: string; attempts: number; event: string }>(
        `SELECT d.id, w.url, w.secret, d.payload, d.attempts, d.event FROM webhook_deliveries d
         JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?`,
        Date.now(),
        DELIVERY_BATCH,
      )
      .toArray();
    await Promise.all(due.map((d) => this.deliver(d)));
    // Keep the log bounded: delivered/failed entries older than 7 days go.
    this.w.sql.exec(
      "DELETE FROM webhook_deliveries WHERE status != 'pending' AND created_at < ?",
      Date.now() - 7 * DAY_MS,
    );
  }

  /** The earliest pending delivery's next attempt. */
  nextAt(): number | null {
    return this.w.sql
      .exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'")
      .one().at;
  }

  private async deliver(d: {
    id: string;
    url: string;
    secret: string;
    payload: string;
    attempts: number;
    event: string;
  }): Promise<void> {
    const attempts = d.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    // Checked again at every delivery: an endpoint stored before the check existed is never called.
    const refused = webhookTargetProblem(d.url);
    if (refused) {
      this.w.sql.exec(
        "UPDATE webhook_deliveries SET status = 'failed', attempts = ?, response_status = NULL, last_error = ? WHERE id = ?",
        attempts,
        `Not sent: ${refused}`,
        d.id,
      );
      return;
    }
    try {
      const res = await fetch(d.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "Microchat-Webhooks/1",
          "Microchat-Event": d.event,
          "Microchat-Delivery": d.id,
          "Microchat-Signature": await signWebhook(d.secret, d.payload),
        },
        body: d.payload,
        // A redirect could point the signed payload at an address the admin never registered.
        redirect: "manual",
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      await res.body?.cancel();
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch {
      // One text for every network failure. The runtime's own message would
      // say "connection refused" for a closed port and time out on a filtered
      // one, and the admin reading the log would learn which ports are open.
      error = DELIVERY_NETWORK_ERROR;
    }
    if (error === null) {
      this.w.sql.exec(
        "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, response_status = ?, delivered_at = ?, last_error = NULL WHERE id = ?",
        attempts,
        status,
        Date.now(),
        d.id,
      );
    } else {
      const gaveUp = attempts >= MAX_WEBHOOK_ATTEMPTS;
      this.w.sql.exec(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, response_status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
        gaveUp ? "failed" : "pending",
        attempts,
        status,
        error,
        Date.now() + backoffMs(attempts),
        d.id,
      );
    }
  }
}
