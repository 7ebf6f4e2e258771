/**
 * Conversation Durable Object: one instance per conversation.
 *
 * It owns the conversation's message log (SQLite, gap-free sequence numbers),
 * its assignment state (which operators joined) and every socket attached to
 * it: the visitor's widget and any operator panels that opened it.
 *
 * Sockets use the WebSocket Hibernation API: the object may be evicted from
 * memory between two messages while sockets stay open. Nothing that matters
 * lives in instance fields; identity is in each socket's attachment, state is
 * in SQLite, and sockets are found again with `getWebSockets(tag)`.
 *
 * The Worker is the only caller (Durable Objects are not reachable from the
 * internet), so identity headers it sets on an upgrade request are trusted.
 */
import { EmailMessage } from "cloudflare:email";
import { DurableObject } from "cloudflare:workers";
import { buildReply, replySubject, tokenAddress } from "./email";
import type { Env } from "./env";
import { randomId, signToken } from "./lib/crypto";
import { parseUserAgent, type ClientInfo } from "./lib/client";
import { deleteConversationFiles, fileKey } from "./lib/files";
import { validateClientFrame } from "./lib/frames";
import type { Result } from "./lib/result";
import {
  LIMITS,
  type ConversationState,
  type ConversationStatus,
  type ConversationSummary,
  type Channel,
  type Delivery,
  type EmailMeta,
  type ErrorCode,
  type FileRef,
  type Message,
  type OperatorRef,
  type SurveyOffer,
  type VisitorInfo,
  type Role,
  type ServerFrame,
} from "./protocol";
import { conversationMigrations } from "./conversation/schema";
import { migrate } from "./schema/migrate";

/** What each socket carries across hibernation. */
export interface SocketIdentity {
  role: Role;
  id: string;
  name: string;
  /**
   * Set when this socket's welcome went out. Live frames go only to ready
   * sockets: anything stored before is in the welcome, so a client never
   * gets the same message twice, live and again in its welcome.
   */
  ready?: boolean;
}

/** Headers the Worker sets when it forwards a WebSocket upgrade. */
export const IDENTITY_HEADERS = {
  conversation: "X-Microchat-Conversation",
  workspace: "X-Microchat-Workspace",
  role: "X-Microchat-Role",
  actorId: "X-Microchat-Actor-Id",
  actorName: "X-Microchat-Actor-Name",
  ticketNonce: "X-Microchat-Ticket-Nonce",
  ticketExpires: "X-Microchat-Ticket-Expires",
  client: "X-Microchat-Client",
} as const;

type MessageRow = {
  file: string | null;
  channel: string;
  email: string | null;
  delivery: string | null;
  seq: number;
  client_id: string;
  kind: string;
  author_role: string;
  author_id: string;
  author_name: string;
  text: string;
  event: string | null;
  rating: number | null;
  at: number;
};

/** A survey offer as stored: who it credits and where it stands. */
interface StoredSurvey {
  id: string;
  operators: OperatorRef[];
  state: "pending" | "answered" | "dismissed";
}

/** Optional parts of a stored message beyond its text. */
interface MessageExtra {
  event?: "joined" | "left" | "rated";
  rating?: number;
  file?: FileRef;
  channel?: Channel;
  email?: EmailMeta;
  delivery?: Delivery;
}

/** Cloudflare's limit for one message sent with send_email. */
const MAX_OUTBOUND_BYTES = 5 * 1024 * 1024;

/**
 * How often, at most, a busy conversation reports message previews to the
 * index until the workspace names its window (wider when many are active).
 */
const PREVIEW_COALESCE_MS = 1000;
/** Back-off when the workspace could not be told. */
const INDEX_RETRY_MS = 5000;
/** The alarm that reports changes an evicted instance did not get to report. */
const INDEX_BACKSTOP_MS = 30_000;
const PREVIEW_CHARS = 140;
/** New messages carried by one index report for message.created webhooks. */
const WEBHOOK_MESSAGES_PER_REPORT = 200;

/** A refusal inside the socket protocol; answered with an error frame. */
export class ConversationError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF: Partial<Record<ErrorCode, 403 | 404 | 409>> = { forbidden: 403, not_found: 404, deleted: 409 };

/** Runs an RPC body, turning a ConversationError into a Refusal for the Worker. */
async function rpc<T>(fn: () => T): Promise<Result<T>> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof ConversationError) {
      return { ok: false, status: STATUS_OF[err.code] ?? 400, code: err.code, message: err.message };
    }
    throw err;
  }
}

/** Messages a visitor may send in a burst, and how fast the allowance refills. */
const VISITOR_BURST = 20;
const VISITOR_REFILL_PER_SEC = 1;

export class Conversation extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /**
   * Send allowance per visitor socket (token bucket). Kept in memory: an
   * eviction only resets it to full, which loosens the limit briefly; a
   * storage write per message just to count would cost more than it saves.
   */
  private readonly buckets = new WeakMap<WebSocket, { tokens: number; at: number }>();

  /** Takes one send from the socket's allowance; returns ms to wait when there is none. */
  private rateLimit(ws: WebSocket): number {
    const now = Date.now();
    const b = this.buckets.get(ws) ?? { tokens: VISITOR_BURST, at: now };
    b.tokens = Math.min(VISITOR_BURST, b.tokens + ((now - b.at) / 1000) * VISITOR_REFILL_PER_SEC);
    b.at = now;
    this.buckets.set(ws, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / VISITOR_REFILL_PER_SEC) * 1000);
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Migrations are synchronous SQL; running them under blockConcurrencyWhile
    // guarantees no event is delivered before the schema is current.
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql, conversationMigrations);
    });
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  // -------------------------------------------------------------------------
  // Meta (small key/value facts about the conversation)

  /**
   * Hot facts kept in memory, written through to SQLite: the meta table (a
   * few dozen keys), the last sequence number and its time, and who has
   * joined. Every message reads several of them, and a SQLite round trip per
   * read was most of a message's CPU time. The copy is rebuilt from storage
   * on first use after an eviction, and dropped when a transaction rolls back.
   */
  private hot: {
    meta: Map<string, string>;
    lastSeq: number;
    lastAt: number | null;
    operators: OperatorRef[];
  } | null = null;

  private get cached(): NonNullable<Conversation["hot"]> {
    if (this.hot) return this.hot;
    const meta = new Map(
      this.sql
        .exec<{ key: string; value: string }>("SELECT key, value FROM meta")
        .toArray()
        .map((r) => [r.key, r.value]),
    );
    const last = this.sql
      .exec<{ seq: number; at: number }>("SELECT seq, at FROM messages ORDER BY seq DESC LIMIT 1")
      .toArray()[0];
    const operators = this.sql
      .exec<{ operator_id: string; name: string }>("SELECT operator_id, name FROM operators ORDER BY joined_at")
      .toArray()
      .map((r) => ({ id: r.operator_id, name: r.name }));
    this.hot = { meta, lastSeq: last?.seq ?? 0, lastAt: last?.at ?? null, operators };
    return this.hot;
  }

  /** A synchronous transaction; if it rolls back, the in-memory copy is rebuilt from storage. */
  private transaction<T>(fn: () => T): T {
    try {
      return this.ctx.storage.transactionSync(fn);
    } catch (err) {
      this.hot = null;
      throw err;
    }
  }

  private getMeta(key: string): string | null {
    return this.cached.meta.get(key) ?? null;
  }

  private setMeta(key: string, value: string | number): void {
    const text = String(value);
    if (this.cached.meta.get(key) === text) return;
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      text,
    );
    this.cached.meta.set(key, text);
  }

  private deleteMeta(key: string): void {
    if (!this.cached.meta.has(key)) return;
    this.sql.exec("DELETE FROM meta WHERE key = ?", key);
    this.cached.meta.delete(key);
  }

  private get id(): string | null {
    return this.getMeta("id");
  }

  /** A conversation exists once its visitor has connected or written, until it is deleted. */
  private get exists(): boolean {
    return this.getMeta("id") !== null && this.getMeta("deleted") !== "1";
  }

  private get status(): ConversationStatus {
    return (this.getMeta("status") as ConversationStatus | null) ?? "unassigned";
  }

  private lastSeq(): number {
    return this.cached.lastSeq;
  }

  private operators(): OperatorRef[] {
    return [...this.cached.operators];
  }

  private visitorSockets(except?: WebSocket): WebSocket[] {
    return this.ctx.getWebSockets("visitor").filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN);
  }

  private state(except?: WebSocket): ConversationState {
    return {
      id: this.id ?? "",
      status: this.status,
      visitor: this.visitorRef(),
      operators: this.operators(),
      lastSeq: this.lastSeq(),
      visitorOnline: this.visitorSockets(except).length > 0,
      createdAt: Number(this.getMeta("created_at") ?? 0),
      survey: this.pendingSurvey(),
    };
  }

  /** The survey waiting for the visitor, if any. */
  private pendingSurvey(): SurveyOffer | null {
    const raw = this.getMeta("survey");
    if (!raw) return null;
    const survey = JSON.parse(raw) as StoredSurvey;
    return survey.state === "pending" ? { id: survey.id, operators: survey.operators.map((o) => o.name) } : null;
  }

  private visitorRef(): ConversationState["visitor"] {
    const ref: ConversationState["visitor"] = {
      id: this.getMeta("visitor_id") ?? "",
      name: this.getMeta("visitor_name"),
      email: this.getMeta("visitor_email"),
    };
    const verified = this.getMeta("identity_verified");
    if (verified !== null) ref.verified = verified === "1";
    return ref;
  }

  /**
   * Name and email the site passed with `Microchat.setUser`. Verified ones
   * (valid hash) replace what is there; unverified ones are kept but marked
   * so operators see they were not vouched for.
   */
  async setSiteIdentity(
    conversationId: string,
    workspace: string,
    visitorId: string,
    input: { name: string | null; email: string | null; verified: boolean },
  ): Promise<Result<null>> {
    return rpc(() => {
      this.init(conversationId, workspace, visitorId);
      if (this.getMeta("visitor_id") !== visitorId) throw new ConversationError("forbidden", "Not your conversation");
      if (!input.verified && this.getMeta("identity_verified") === "1") return null; // never downgrade a verified identity
      if (input.name) this.setMeta("visitor_name", input.name);
      if (input.email) this.setMeta("visitor_email", input.email);
      this.setMeta("identity_verified", input.verified ? 1 : 0);
      this.broadcast({ type: "state", state: this.state() });
      if (this.getMeta("started") === "1") this.touchIndex(true);
      return null;
    });
  }

  /** Records identity on first contact; later calls must agree with it. */
  private init(conversationId: string, workspace: string, visitorId: string): void {
    const existing = this.id;
    if (existing !== null) {
      if (existing !== conversationId || this.getMeta("workspace") !== workspace) {
        throw new ConversationError("not_found", "Unknown conversation");
      }
      // A deleted conversation never comes back: late sockets and mail are refused.
      if (this.getMeta("deleted") === "1") throw new ConversationError("deleted", "This conversation was deleted");
      return;
    }
    this.transaction(() => {
      this.setMeta("id", conversationId);
      this.setMeta("workspace", workspace);
      this.setMeta("visitor_id", visitorId);
      this.setMeta("created_at", Date.now());
      this.setMeta("status", "unassigned");
      this.setMeta("started", 0);
      this.setMeta("last_read_seq", 0);
    });
  }

  // -------------------------------------------------------------------------
  // Sockets

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(
        { error: { code: "bad_request", message: "Expected a WebSocket upgrade" } },
        { status: 426 },
      );
    }
    const h = request.headers;
    const conversationId = h.get(IDENTITY_HEADERS.conversation) ?? "";
    const workspace = h.get(IDENTITY_HEADERS.workspace) ?? "";
    const role = h.get(IDENTITY_HEADERS.role);
    const actorId = h.get(IDENTITY_HEADERS.actorId) ?? "";
    const actorName = h.get(IDENTITY_HEADERS.actorName) ?? "";
    if ((role !== "visitor" && role !== "operator") || !conversationId || !workspace || !actorId) {
      return Response.json({ error: { code: "bad_request", message: "Missing identity" } }, { status: 400 });
    }

    if (role === "visitor") {
      try {
        this.init(conversationId, workspace, actorId);
      } catch (err) {
        if (err instanceof ConversationError && err.code === "deleted") {
          return Response.json({ error: { code: "deleted", message: err.message } }, { status: 410 });
        }
        return Response.json({ error: { code: "not_found", message: "Unknown conversation" } }, { status: 404 });
      }
      if (this.getMeta("visitor_id") !== actorId) {
        return Response.json({ error: { code: "forbidden", message: "Not your conversation" } }, { status: 403 });
      }
      // Socket tickets are single-use: a ticket seen in a log cannot be replayed.
      const nonce = h.get(IDENTITY_HEADERS.ticketNonce) ?? "";
      const expires = Number(h.get(IDENTITY_HEADERS.ticketExpires) ?? 0);
      const used = this.sql.exec("SELECT 1 FROM used_tickets WHERE nonce = ?", nonce).toArray().length > 0;
      if (!nonce || used) {
        return Response.json({ error: { code: "forbidden", message: "Ticket already used" } }, { status: 403 });
      }
      this.sql.exec("INSERT INTO used_tickets (nonce, expires_at) VALUES (?, ?)", nonce, expires);
      const client = h.get(IDENTITY_HEADERS.client);
      if (client) this.noteClient(JSON.parse(client) as ClientInfo);
      this.ctx.waitUntil(this.armAlarm(expires + 1000));
    } else if (!this.exists || this.getMeta("id") !== conversationId || this.getMeta("workspace") !== workspace) {
      return Response.json({ error: { code: "not_found", message: "Unknown conversation" } }, { status: 404 });
    }

    const pair = new WebSocketPair();
    const server = pair[1];
    const identity: SocketIdentity = {
      role,
      id: actorId,
      name: actorName || (role === "visitor" ? "Visitor" : "Operator"),
    };
    this.ctx.acceptWebSocket(server, [role, `${role}:${actorId}`]);
    server.serializeAttachment(identity);

    if (role === "visitor" && this.visitorSockets(server).length === 0) {
      // The visitor just came online: operators' channel hint changes.
      this.broadcast({ type: "state", state: this.state() }, server);
    }
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const who = ws.deserializeAttachment() as SocketIdentity | null;
    if (!who) {
      ws.close(1011, "Lost identity");
      return;
    }
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (size > LIMITS.frameBytes) {
      return this.sendError(ws, "too_large", `Frame is larger than ${LIMITS.frameBytes} bytes`);
    }
    if (typeof data !== "string") {
      return this.sendError(ws, "bad_frame", "Binary frames are not supported");
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return this.sendError(ws, "bad_json", "Frame is not valid JSON");
    }
    const parsed = validateClientFrame(raw);
    if (!parsed.ok) {
      return this.sendError(ws, parsed.code, parsed.message, parsed.clientId);
    }
    const frame = parsed.frame;
    try {
      switch (frame.type) {
        case "hello":
          return await this.onHello(ws, who, frame.lastSeq);
        case "send": {
          if (who.role === "visitor") {
            const wait = this.rateLimit(ws);
            if (wait > 0) {
              // Nothing is stored; a well-behaved client keeps the message and resends it after the wait.
              return this.send(ws, {
                type: "error",
                code: "rate_limited",
                message: `You're sending messages too fast; try again in ${Math.ceil(wait / 1000)} s`,
                clientId: frame.clientId,
                retryAfterMs: wait,
              });
            }
          }
          if (frame.channel === "email") {
            if (who.role !== "operator") throw new ConversationError("forbidden", "Only operators reply by email");
            const ready = await this.prepareEmail();
            if (!ready.ok) throw new ConversationError("bad_frame", ready.message);
          }
          const result =
            frame.channel === "email"
              ? this.store(who, frame.clientId, "text", frame.text, this.emailEnvelope("email"))
              : this.storeText(who, frame.clientId, frame.text);
          // The write above is committed before this frame leaves: the output
          // gate holds outgoing messages until storage confirms, so an ack
          // always means "stored".
          this.send(ws, { type: "ack", clientId: frame.clientId, seq: result.message.seq, at: result.message.at });
          if (result.fresh) this.broadcast({ type: "message", message: result.message }, ws);
          if (result.fresh && result.message.delivery) this.ctx.waitUntil(this.deliver(result.message.seq));
          return;
        }
        case "history": {
          const limit = Math.min(frame.limit ?? LIMITS.historyPage, LIMITS.historyPageMax);
          const page = this.page(frame.beforeSeq, limit);
          return this.send(ws, { type: "history", messages: page.messages, hasMore: page.hasMore });
        }
        case "read":
          if (who.role !== "operator") return this.sendError(ws, "forbidden", "Only operators mark messages read");
          return this.markRead(frame.seq);
        case "profile":
          if (who.role !== "visitor") return this.sendError(ws, "forbidden", "Only the visitor sets their profile");
          return this.setProfile(frame.name, frame.email);
        case "rate":
          if (who.role !== "visitor") return this.sendError(ws, "forbidden", "Only the visitor rates the conversation");
          return await this.rate(frame.surveyId, frame.rating, frame.comment);
        case "dismissSurvey":
          if (who.role !== "visitor") return this.sendError(ws, "forbidden", "Only the visitor answers the survey");
          return this.closeSurvey(frame.surveyId);
      }
    } catch (err) {
      if (err instanceof ConversationError) {
        return this.sendError(ws, err.code, err.message, frame.type === "send" ? frame.clientId : undefined);
      }
      console.error("Conversation", this.id, "webSocketMessage failed", err);
      return this.sendError(ws, "internal", "Something went wrong; please retry");
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    const who = ws.deserializeAttachment() as SocketIdentity | null;
    try {
      // Echo the close so the client sees a clean shutdown.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "Closed");
    } catch {
      // Already closed.
    }
    if (who?.role === "visitor" && this.visitorSockets(ws).length === 0) {
      if (this.exists) this.setMeta("last_seen", Date.now());
      this.broadcast({ type: "state", state: this.state(ws) }, ws);
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    console.warn("Conversation", this.id, "socket error", error);
  }

  private async onHello(ws: WebSocket, who: SocketIdentity, lastSeq: number): Promise<void> {
    // A second hello starts over: nothing live until this welcome is out.
    if (who.ready) this.markReady(ws, who, false);
    // Visitors learn whether anyone can answer now (else the widget offers email).
    let available: boolean | undefined;
    if (who.role === "visitor") {
      try {
        const ws = this.env.WORKSPACE.get(this.env.WORKSPACE.idFromName(this.getMeta("workspace")!));
        available = await ws.availability();
      } catch {
        available = true;
      }
    }
    const state = this.state();
    // From here to the last chunk nothing awaits, so no message can slip between the welcome and live frames.
    this.markReady(ws, who, true);
    if (lastSeq <= 0 || lastSeq > state.lastSeq) {
      // Fresh open (or a client that knows a future we don't): newest page.
      const page = this.page(state.lastSeq + 1, LIMITS.historyPage);
      this.send(ws, {
        type: "welcome",
        role: who.role,
        you: who.id,
        state,
        messages: page.messages,
        hasMore: page.hasMore,
        partial: false,
        ...(available === undefined ? {} : { available }),
      });
      return;
    }
    // Resume: exactly what the client missed, in order, in bounded chunks.
    let after = lastSeq;
    let first = true;
    for (;;) {
      const chunk = this.after(after, LIMITS.resumeChunk);
      const done = chunk.length < LIMITS.resumeChunk || chunk[chunk.length - 1]!.seq >= state.lastSeq;
      if (first) {
        this.send(ws, {
          type: "welcome",
          role: who.role,
          you: who.id,
          state,
          messages: chunk,
          hasMore: lastSeq > 0,
          partial: !done,
          ...(available === undefined ? {} : { available }),
        });
        first = false;
      } else {
        this.send(ws, { type: "messages", messages: chunk, done });
      }
      if (done) return;
      after = chunk[chunk.length - 1]!.seq;
    }
  }

  // -------------------------------------------------------------------------
  // Message log

  private rowToMessage(r: MessageRow): Message {
    const m: Message = {
      seq: r.seq,
      clientId: r.client_id,
      kind: r.kind as Message["kind"],
      author: { role: r.author_role as Message["author"]["role"], id: r.author_id, name: r.author_name },
      text: r.text,
      at: r.at,
    };
    if (r.event) m.event = r.event as "joined" | "left" | "rated";
    if (r.event === "rated") m.rating = r.rating ?? 0;
    if (r.file) m.file = JSON.parse(r.file) as FileRef;
    if (r.channel === "email") m.channel = "email";
    if (r.email) m.email = JSON.parse(r.email) as EmailMeta;
    if (r.delivery) m.delivery = JSON.parse(r.delivery) as Delivery;
    return m;
  }

  /** Messages with seq < beforeSeq, newest `limit` of them, ascending. */
  private page(beforeSeq: number, limit: number): { messages: Message[]; hasMore: boolean } {
    const rows = this.sql
      .exec<MessageRow>("SELECT * FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?", beforeSeq, limit + 1)
      .toArray();
    const hasMore = rows.length > limit;
    return {
      messages: rows
        .slice(0, limit)
        .reverse()
        .map((r) => this.rowToMessage(r)),
      hasMore,
    };
  }

  private after(afterSeq: number, limit: number): Message[] {
    return this.sql
      .exec<MessageRow>("SELECT * FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?", afterSeq, limit)
      .toArray()
      .map((r) => this.rowToMessage(r));
  }

  /**
   * Appends a message under the next sequence number. Runs synchronously (no
   * await between reading MAX(seq) and inserting), so two messages can never
   * take the same number and the log has no gaps.
   */
  private append(
    clientId: string,
    kind: Message["kind"],
    author: Message["author"],
    text: string,
    extra: MessageExtra = {},
  ): Message {
    const seq = this.lastSeq() + 1;
    const at = Date.now();
    this.sql.exec(
      `INSERT INTO messages (seq, client_id, kind, author_role, author_id, author_name, text, event, rating, file, channel, email, delivery, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      seq,
      clientId,
      kind,
      author.role,
      author.id,
      author.name,
      text,
      extra.event ?? null,
      extra.rating ?? null,
      extra.file ? JSON.stringify(extra.file) : null,
      extra.channel ?? "chat",
      extra.email ? JSON.stringify(extra.email) : null,
      extra.delivery ? JSON.stringify(extra.delivery) : null,
      at,
    );
    // Every stored file (chat or email attachment) is findable by id for serving.
    for (const f of [...(extra.file ? [extra.file] : []), ...(extra.email?.attachments ?? [])]) {
      this.sql.exec("INSERT INTO attachments (file_id, seq, meta) VALUES (?, ?, ?)", f.id, seq, JSON.stringify(f));
    }
    this.cached.lastSeq = seq;
    this.cached.lastAt = at;
    const message: Message = { seq, clientId, kind, author, text, at };
    if (extra.event) message.event = extra.event;
    if (extra.rating) message.rating = extra.rating;
    if (extra.file) message.file = extra.file;
    if (extra.channel === "email") message.channel = "email";
    if (extra.email) message.email = extra.email;
    if (extra.delivery) message.delivery = extra.delivery;
    return message;
  }

  /** Stores a text message once per clientId; a resend returns the stored one. */
  private storeText(who: SocketIdentity, clientId: string, text: string): { message: Message; fresh: boolean } {
    return this.store(who, clientId, "text", text);
  }

  /**
   * Stores a message once per clientId; a resend returns the stored one
   * (`fresh: false`). Applies the assignment rules: operators must have
   * joined; a visitor's first message, or first after everyone left, puts
   * the conversation in Unassigned.
   */
  private store(
    who: SocketIdentity,
    clientId: string,
    kind: "text" | "file",
    text: string,
    extra: MessageExtra = {},
  ): { message: Message; fresh: boolean } {
    const existing = this.sql.exec<MessageRow>("SELECT * FROM messages WHERE client_id = ?", clientId).toArray()[0];
    if (existing) {
      if (existing.author_id !== who.id) throw new ConversationError("bad_frame", "clientId already used");
      return { message: this.rowToMessage(existing), fresh: false };
    }
    if (who.role === "operator" && !this.isJoined(who.id)) {
      throw new ConversationError("forbidden", "Join the conversation to reply");
    }
    const message = this.append(clientId, kind, { role: who.role, id: who.id, name: who.name }, text, extra);

    if (who.role === "visitor" && extra.email?.auto) {
      // An auto-reply or bounce is kept for the record but never requeues.
      this.touchIndex(false);
    } else if (who.role === "visitor") {
      const status = this.status;
      const started = this.getMeta("started") === "1";
      if (!started || status === "idle") {
        // First message, or the first after every operator left: the
        // conversation (re)enters Unassigned for every operator, right now.
        this.setMeta("started", 1);
        this.setMeta("status", "unassigned");
        this.setMeta("waiting_since", message.at);
        this.broadcast({ type: "state", state: this.state() });
        this.touchIndex(true);
      } else {
        this.touchIndex(false);
      }
    } else {
      // An operator's reply answers everything before it.
      this.setMeta("last_read_seq", message.seq);
      this.stat("message", who.id, 1);
      const waiting = this.getMeta("waiting_since");
      if (waiting !== null) {
        // First response time: visitor message in Unassigned → first operator reply.
        this.stat("first_response", who.id, Math.max(0, message.at - Number(waiting)));
        this.deleteMeta("waiting_since");
      }
      this.touchIndex(false);
    }
    return { message, fresh: true };
  }

  private markRead(seq: number): void {
    const current = Number(this.getMeta("last_read_seq") ?? 0);
    const target = Math.min(seq, this.lastSeq());
    if (target > current) {
      this.setMeta("last_read_seq", target);
      this.touchIndex(false);
    }
  }

  private setProfile(name: string | undefined, email: string | undefined): void {
    if (name !== undefined) this.setMeta("visitor_name", name);
    if (email !== undefined) this.setMeta("visitor_email", email);
    this.broadcast({ type: "state", state: this.state() });
    if (this.getMeta("started") === "1") this.touchIndex(true);
  }

  // -------------------------------------------------------------------------
  // Assignment (RPC from the Worker's HTTP routes)

  private isJoined(operatorId: string): boolean {
    return this.cached.operators.some((o) => o.id === operatorId);
  }

  private requireConversation(conversationId: string, workspace: string): void {
    if (!this.exists || this.id !== conversationId || this.getMeta("workspace") !== workspace) {
      throw new ConversationError("not_found", "Unknown conversation");
    }
  }

  /** JOIN: assigns the operator. Several operators may join the same conversation. */
  async join(conversationId: string, workspace: string, operator: OperatorRef): Promise<Result<ConversationState>> {
    return rpc(() => this.doJoin(conversationId, workspace, operator));
  }

  private doJoin(conversationId: string, workspace: string, operator: OperatorRef): ConversationState {
    this.requireConversation(conversationId, workspace);
    if (!this.isJoined(operator.id)) {
      const event = this.transaction(() => {
        this.sql.exec(
          "INSERT INTO operators (operator_id, name, joined_at) VALUES (?, ?, ?)",
          operator.id,
          operator.name,
          Date.now(),
        );
        this.cached.operators.push({ id: operator.id, name: operator.name });
        this.setMeta("status", "assigned");
        this.sql.exec(
          "INSERT OR REPLACE INTO stretch_operators (operator_id, name) VALUES (?, ?)",
          operator.id,
          operator.name,
        );
        this.stat("joined", operator.id, 1);
        return this.append(
          `event:${randomId()}`,
          "event",
          { role: "system", id: operator.id, name: operator.name },
          `${operator.name} joined`,
          { event: "joined" },
        );
      });
      this.broadcast({ type: "message", message: event });
      this.broadcast({ type: "state", state: this.state() });
      this.touchIndex(true);
    }
    return this.state();
  }

  /**
   * Leave Conversation: unassigns the operator; when the last one leaves the
   * conversation goes idle. `publicUrl` is where links in a survey email point.
   */
  async leave(
    conversationId: string,
    workspace: string,
    operatorId: string,
    publicUrl: string,
  ): Promise<Result<ConversationState>> {
    return rpc(() => this.doLeave(conversationId, workspace, operatorId, publicUrl));
  }

  private doLeave(conversationId: string, workspace: string, operatorId: string, publicUrl: string): ConversationState {
    this.requireConversation(conversationId, workspace);
    const row = this.cached.operators.find((o) => o.id === operatorId);
    if (!row) throw new ConversationError("forbidden", "You have not joined this conversation");
    const event = this.transaction(() => {
      this.sql.exec("DELETE FROM operators WHERE operator_id = ?", operatorId);
      this.cached.operators = this.cached.operators.filter((o) => o.id !== operatorId);
      if (this.cached.operators.length === 0) {
        this.setMeta("status", "idle");
        this.offerSurvey(publicUrl);
      }
      return this.append(
        `event:${randomId()}`,
        "event",
        { role: "system", id: operatorId, name: row.name },
        `${row.name} left`,
        { event: "left" },
      );
    });
    this.broadcast({ type: "message", message: event });
    this.broadcast({ type: "state", state: this.state() });
    this.touchIndex(true);
    return this.state();
  }

  async getState(conversationId: string, workspace: string): Promise<Result<ConversationState>> {
    return rpc(() => {
      this.requireConversation(conversationId, workspace);
      return this.state();
    });
  }

  async getMessages(
    conversationId: string,
    workspace: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<Result<{ messages: Message[]; hasMore: boolean }>> {
    return rpc(() => {
      this.requireConversation(conversationId, workspace);
      return this.page(beforeSeq ?? this.lastSeq() + 1, Math.min(Math.max(limit, 1), LIMITS.historyPageMax));
    });
  }

  /**
   * Stores the message for an attachment already written to R2. The Worker
   * deletes the object again when this is refused or is a resend (`fresh:
   * false`), so nothing is ever half-stored.
   */
  async attachFile(
    conversationId: string,
    workspace: string,
    who: SocketIdentity,
    clientId: string,
    file: FileRef,
    channel: Channel = "chat",
  ): Promise<Result<{ message: Message; fresh: boolean }>> {
    if (channel === "email") {
      const ready = await this.prepareEmail();
      if (!ready.ok) return ready;
    }
    return rpc(() => {
      if (who.role === "visitor") this.init(conversationId, workspace, who.id);
      this.requireConversation(conversationId, workspace);
      if (who.role === "visitor" && this.getMeta("visitor_id") !== who.id) {
        throw new ConversationError("forbidden", "Not your conversation");
      }
      const result = this.store(
        who,
        clientId,
        "file",
        file.name,
        channel === "email" ? { file, ...this.emailEnvelope(channel) } : { file },
      );
      if (result.fresh && result.message.delivery) this.ctx.waitUntil(this.deliver(result.message.seq));
      if (result.fresh) this.broadcast({ type: "message", message: result.message });
      return result;
    });
  }

  /** The attachment `fileId` of this conversation, for serving. */
  async getFile(conversationId: string, workspace: string, fileId: string): Promise<Result<FileRef>> {
    return rpc(() => {
      this.requireConversation(conversationId, workspace);
      const row = this.sql
        .exec<{ meta: string }>("SELECT meta FROM attachments WHERE file_id = ?", fileId)
        .toArray()[0];
      if (!row) throw new ConversationError("not_found", "No such file");
      return JSON.parse(row.meta) as FileRef;
    });
  }

  /**
   * An operator's message sent over HTTP (the REST API), with the same rules
   * as the socket: joined operators only, stored once per clientId, acked
   * only once stored, email replies delivered afterwards.
   */
  async sendAsOperator(
    conversationId: string,
    workspace: string,
    who: SocketIdentity,
    clientId: string,
    text: string,
    channel: Channel,
  ): Promise<Result<{ message: Message; fresh: boolean }>> {
    const exists = await rpc(() => this.requireConversation(conversationId, workspace));
    if (!exists.ok) return exists;
    if (channel === "email") {
      const ready = await this.prepareEmail();
      if (!ready.ok) return ready;
    }
    return rpc(() => {
      const result = this.store(who, clientId, "text", text, channel === "email" ? this.emailEnvelope("email") : {});
      if (result.fresh) {
        this.broadcast({ type: "message", message: result.message });
        if (result.message.delivery) this.ctx.waitUntil(this.deliver(result.message.seq));
      }
      return result;
    });
  }

  // -------------------------------------------------------------------------
  // Email

  /** Stores an inbound mail (RPC from the Worker's email handler). */
  async receiveEmail(
    conversationId: string,
    workspace: string,
    visitor: { id: string; name: string | null; email: string },
    clientId: string,
    text: string,
    meta: EmailMeta,
    token: string,
  ): Promise<Result<{ seq: number; fresh: boolean }>> {
    return rpc(() => {
      this.init(conversationId, workspace, visitor.id);
      if (this.getMeta("visitor_id") !== visitor.id) {
        throw new ConversationError("forbidden", "Not this visitor's conversation");
      }
      if (this.getMeta("visitor_email") === null) this.setMeta("visitor_email", visitor.email);
      if (this.getMeta("visitor_name") === null && visitor.name) this.setMeta("visitor_name", visitor.name);
      this.setMeta("email_token", token);
      const who: SocketIdentity = { role: "visitor", id: visitor.id, name: visitor.name ?? visitor.email };
      const result = this.store(who, clientId, "text", text, { channel: "email", email: meta });
      if (result.fresh) this.broadcast({ type: "message", message: result.message });
      return { seq: result.message.seq, fresh: result.fresh };
    });
  }

  /**
   * Checks that an email reply can go out (the visitor has an address, the
   * workspace has a sending address) and makes sure the conversation has a
   * thread token for its Reply-To address.
   */
  private async prepareEmail(): Promise<Result<null>> {
    const to = this.getMeta("visitor_email");
    if (!to)
      return { ok: false, status: 400, code: "no_email", message: "This visitor has not given an email address" };
    const ws = this.env.WORKSPACE.get(this.env.WORKSPACE.idFromName(this.getMeta("workspace")!));
    const settings = await ws.getSettings();
    if (!settings.emailAddress) {
      return { ok: false, status: 400, code: "no_sender", message: "Set the workspace email address first (Settings)" };
    }
    const token = await ws.ensureEmailThread(this.id!, this.getMeta("visitor_id")!, to);
    this.setMeta("email_token", token);
    this.setMeta("email_from", settings.emailAddress);
    this.setMeta("email_name", settings.emailName);
    return { ok: true, value: null };
  }

  /** The envelope of an outbound reply; delivery starts as "sending". */
  private emailEnvelope(channel: Channel): MessageExtra {
    if (channel !== "email") return {};
    const from = this.getMeta("email_from")!;
    const domain = from.slice(from.lastIndexOf("@") + 1);
    const lastInbound = this.sql
      .exec<{ email: string }>(
        "SELECT email FROM messages WHERE channel = 'email' AND author_role = 'visitor' ORDER BY seq DESC LIMIT 1",
      )
      .toArray()[0];
    const subject = lastInbound
      ? (JSON.parse(lastInbound.email) as EmailMeta).subject
      : `Your conversation with ${this.env.WORKSPACE_NAME}`;
    return {
      channel: "email",
      email: {
        subject: replySubject(subject),
        from: { name: this.getMeta("email_name") ?? this.env.WORKSPACE_NAME, address: from },
        to: this.getMeta("visitor_email")!,
        messageId: `<${randomId()}@${domain}>`,
      },
      delivery: { state: "sending" },
    };
  }

  /** Sends the stored email message `seq` and records how it went. */
  private async deliver(seq: number): Promise<void> {
    const row = this.sql.exec<MessageRow>("SELECT * FROM messages WHERE seq = ?", seq).toArray()[0];
    if (!row?.email) return;
    const message = this.rowToMessage(row);
    const meta = message.email!;
    const ids = this.sql
      .exec<{ id: string }>(
        "SELECT json_extract(email, '$.messageId') AS id FROM messages WHERE channel = 'email' AND seq < ? ORDER BY seq DESC LIMIT 20",
        seq,
      )
      .toArray()
      .map((r) => r.id)
      .reverse();
    const lastInbound = this.sql
      .exec<{ id: string }>(
        "SELECT json_extract(email, '$.messageId') AS id FROM messages WHERE channel = 'email' AND author_role = 'visitor' AND seq < ? ORDER BY seq DESC LIMIT 1",
        seq,
      )
      .toArray()[0];
    let delivery: Delivery;
    try {
      let attachment: { name: string; type: string; bytes: Uint8Array } | undefined;
      if (message.file) {
        const object = await this.env.ATTACHMENTS.get(fileKey(this.id!, message.file.id));
        if (!object) throw new Error("the attachment is missing");
        attachment = {
          name: message.file.name,
          type: message.file.type,
          bytes: new Uint8Array(await object.arrayBuffer()),
        };
      }
      const raw = buildReply({
        from: meta.from,
        to: meta.to,
        replyTo: tokenAddress(meta.from.address, this.getMeta("email_token")!),
        subject: meta.subject,
        text: message.kind === "file" ? `${message.author.name} sent you a file: ${message.file?.name}` : message.text,
        messageId: meta.messageId,
        inReplyTo: lastInbound?.id ?? null,
        references: ids,
        attachment,
      });
      if (raw.length > MAX_OUTBOUND_BYTES) throw new Error("the email would be larger than 5 MB");
      await this.env.SEND_EMAIL.send(new EmailMessage(meta.from.address, meta.to, raw));
      delivery = { state: "sent" };
      const ws = this.env.WORKSPACE.get(this.env.WORKSPACE.idFromName(this.getMeta("workspace")!));
      await ws.recordEmailId(this.id!, meta.messageId);
    } catch (err) {
      console.error("Conversation", this.id, "email delivery failed", err);
      delivery = { state: "failed", error: err instanceof Error ? err.message : "sending failed" };
    }
    this.sql.exec("UPDATE messages SET delivery = ? WHERE seq = ?", JSON.stringify(delivery), seq);
    this.broadcast({ type: "delivery", seq, delivery });
  }

  /** The visitor's own history: empty before their first contact; anyone else's is refused. */
  async getVisitorMessages(
    conversationId: string,
    workspace: string,
    visitorId: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<Result<{ messages: Message[]; hasMore: boolean }>> {
    return rpc(() => {
      if (!this.exists) return { messages: [], hasMore: false };
      this.requireConversation(conversationId, workspace);
      if (this.getMeta("visitor_id") !== visitorId) throw new ConversationError("forbidden", "Not your conversation");
      return this.page(beforeSeq ?? this.lastSeq() + 1, Math.min(Math.max(limit, 1), LIMITS.historyPageMax));
    });
  }

  // -------------------------------------------------------------------------
  // The workspace index

  /**
   * Tells the workspace this conversation's summary changed. State changes
   * (new, joined, left, requeued) go at once. Previews of ordinary messages
   * go at once too when the conversation has been quiet; within a burst they
   * are coalesced, so a busy conversation costs the workspace at most one
   * report per window (see `windowMs`), not one per message.
   */
  private touchIndex(immediate: boolean): void {
    if (this.getMeta("started") !== "1") return;
    this.dirty = (this.dirty ?? 0) + 1;
    const now = Date.now();
    if (immediate) {
      // State changes are on their way before this event ends, so whoever
      // hears of the change next (an HTTP response, an ack) finds the index current.
      this.ctx.waitUntil(this.flushIndex());
    } else {
      // Previews start after the current event (the ack and the broadcast go first).
      const quiet = this.flushing === 0 && now - this.lastFlushAt >= this.windowMs;
      this.flushAfter(quiet ? 0 : this.nextReportAt() - now);
    }
    // The durable backstop: should this instance go away before it reports,
    // the alarm wakes the conversation to report. Armed once per
    // INDEX_BACKSTOP_MS, not per message (an alarm write costs more than the report).
    if (this.alarmAt === null || this.alarmAt > now + INDEX_BACKSTOP_MS) {
      this.ctx.waitUntil(this.armAlarm(now + INDEX_BACKSTOP_MS));
    }
  }

  /**
   * When a busy conversation reports next: a window after the last report,
   * plus up to a quarter window at random, so conversations that started
   * together (a burst of visitors, a deploy) do not report in lock-step.
   */
  private nextReportAt(): number {
    return this.lastFlushAt + this.windowMs * (1 + Math.random() / 4);
  }

  /** Reports in `ms` (an in-memory timer: cheap and exact), unless one is planned sooner. */
  private flushAfter(ms: number): void {
    const due = Date.now() + Math.max(0, ms);
    if (this.timer !== null) {
      if (this.timer.due <= due) return;
      clearTimeout(this.timer.handle);
    }
    this.timer = {
      due,
      handle: setTimeout(
        () => {
          this.timer = null;
          this.ctx.waitUntil(this.flushIndex());
        },
        Math.max(0, ms),
      ),
    };
  }

  /**
   * Changes not yet reported to the workspace. Kept in memory: a change
   * reports at once or on a timer, with the durable alarm as a backstop, and
   * an object that wakes up without this count (`null`, after an eviction)
   * reports when that alarm fires, so nothing is lost by not storing it.
   */
  private dirty: number | null = null;
  private timer: { due: number; handle: ReturnType<typeof setTimeout> } | null = null;
  /** The workspace's latest word on how long to wait between reports while busy. */
  private windowMs = PREVIEW_COALESCE_MS;
  /** When the last report started, and how many are on their way. */
  private lastFlushAt = 0;
  private flushing = 0;
  /**
   * Version of the last report. Reports are numbered from the clock (µs), so
   * a fresh instance needs no stored counter; should a clock ever run behind
   * a newer report, the workspace answers with its version and we go on
   * from there.
   */
  private indexVersion = 0;
  /**
   * Whether any webhook wants message.created: the workspace says so in its
   * answer to each report (`null` until the first answer of this instance).
   */
  private wantsMessages: boolean | null = null;
  /** Whether pending_stats may hold rows (`null`: not known since waking up). */
  private statsPending: boolean | null = null;

  /**
   * When the alarm is known to be set at or before `at`, there is nothing to
   * do: remembered in memory so a busy conversation does not read the alarm
   * on every message. (After an eviction the field is empty and the alarm is
   * read once again.)
   */
  private alarmAt: number | null = null;

  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at; // claimed now, so callers meanwhile do not read the alarm again
    try {
      const current = await this.ctx.storage.getAlarm();
      if (current !== null && current <= at) this.alarmAt = current;
      else await this.ctx.storage.setAlarm(at);
    } catch (err) {
      this.alarmAt = null;
      throw err;
    }
  }

  private summary(version: number): ConversationSummary & { version: number } {
    const last = this.sql
      .exec<{ text: string; author_role: string; kind: string }>(
        "SELECT text, author_role, kind FROM messages WHERE kind IN ('text', 'file') ORDER BY seq DESC LIMIT 1",
      )
      .toArray()[0];
    const lastAny = this.cached.lastAt;
    const lastRead = Number(this.getMeta("last_read_seq") ?? 0);
    const unread = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE author_role = 'visitor' AND seq > ?", lastRead)
      .one().n;
    const state = this.state();
    return {
      id: state.id,
      status: state.status,
      visitor: state.visitor,
      operators: state.operators,
      preview: last ? (last.kind === "file" ? `📎 ${last.text}` : last.text).slice(0, PREVIEW_CHARS) : "",
      previewRole: (last?.author_role as Role | undefined) ?? "visitor",
      lastAt: lastAny ?? state.createdAt,
      unread,
      createdAt: state.createdAt,
      version,
    };
  }

  private async flushIndex(): Promise<void> {
    if (this.getMeta("started") !== "1" || this.getMeta("deleted") === "1") return;
    const dirty = this.dirty;
    if (dirty === 0) return;
    this.flushing++;
    this.lastFlushAt = Date.now();
    this.indexVersion = Math.max(this.indexVersion + 1, Date.now() * 1000);
    const summary = this.summary(this.indexVersion);
    const workspace = this.getMeta("workspace")!;
    const stats =
      this.statsPending === false
        ? []
        : this.sql
            .exec<{ rowid: number; kind: string; operator_id: string; at: number; value: number }>(
              "SELECT rowid, kind, operator_id, at, value FROM pending_stats ORDER BY rowid LIMIT 500",
            )
            .toArray();
    // New messages since the last report, for message.created webhooks
    // (bounded per report; skipped while no webhook wants them).
    const reported = Number(this.getMeta("reported_seq") ?? 0);
    const fresh = this.wantsMessages ? this.after(reported, WEBHOOK_MESSAGES_PER_REPORT) : [];
    try {
      const answer = await this.env.WORKSPACE.get(this.env.WORKSPACE.idFromName(workspace)).upsertConversation(
        summary,
        stats.map((r) => ({
          kind: r.kind as "joined" | "message" | "first_response",
          operatorId: r.operator_id,
          at: r.at,
          value: r.value,
        })),
        fresh,
      );
      if (stats.length > 0) this.sql.exec("DELETE FROM pending_stats WHERE rowid <= ?", stats[stats.length - 1]!.rowid);
      this.statsPending = stats.length === 500;
      if (fresh.length > 0) this.setMeta("reported_seq", fresh[fresh.length - 1]!.seq);
      // A full batch may have left more behind: report again after the window.
      if (fresh.length === WEBHOOK_MESSAGES_PER_REPORT) this.dirty = (this.dirty ?? 0) + 1;
      if (answer.messages && this.wantsMessages !== true) {
        // Webhooks want messages (news to this instance): report those from
        // the subscription on, not an old backlog, and soon.
        const floor =
          this.sql
            .exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM messages WHERE at < ?", answer.since ?? 0)
            .one().s ?? 0;
        if (floor > Number(this.getMeta("reported_seq") ?? 0)) this.setMeta("reported_seq", floor);
        this.dirty = (this.dirty ?? 0) + 1;
      }
      this.wantsMessages = answer.messages;
      this.windowMs = answer.windowMs;
      if (answer.version > this.indexVersion) {
        // The workspace holds a newer version than our clock gave: go on from its number and report again.
        this.indexVersion = answer.version;
        this.dirty = (this.dirty ?? 0) + 1;
      }
      // Clear only if nothing changed while we were waiting; otherwise the
      // alarm sends the newer summary.
      if (this.dirty === dirty) this.dirty = 0;
      else this.flushAfter(this.nextReportAt() - Date.now());
    } catch (err) {
      console.error("Conversation", this.id, "index update failed; retrying", err);
      await this.armAlarm(Date.now() + INDEX_RETRY_MS);
    } finally {
      this.flushing--;
    }
  }

  // -------------------------------------------------------------------------
  // Visitor information (upper right of the conversation window)

  /** Remembers where and with what the visitor last came (IP, User-Agent, cf location). */
  private noteClient(info: ClientInfo): void {
    if (info.ip) this.setMeta("ip", info.ip);
    if (info.userAgent) this.setMeta("user_agent", info.userAgent);
    if (info.geo && (info.geo.country || info.geo.city)) this.setMeta("geo", JSON.stringify(info.geo));
    this.setMeta("last_seen", Date.now());
  }

  /**
   * Page views from the widget loader (beacons, batched). Each view has a
   * client id, so the later report of its time on page updates it in place.
   */
  async recordPageViews(
    conversationId: string,
    workspace: string,
    visitorId: string,
    views: { id: string; url: string; title: string; at: number; ms: number | null }[],
    referrer: string | null,
    info: ClientInfo,
  ): Promise<Result<number>> {
    return rpc(() => {
      this.init(conversationId, workspace, visitorId);
      if (this.getMeta("visitor_id") !== visitorId) throw new ConversationError("forbidden", "Not your conversation");
      this.transaction(() => {
        for (const v of views) {
          this.sql.exec(
            `INSERT INTO page_views (id, url, title, at, ms) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET ms = COALESCE(excluded.ms, ms), title = excluded.title`,
            v.id,
            v.url,
            v.title,
            v.at,
            v.ms,
          );
        }
        if (referrer && this.getMeta("referrer") === null) this.setMeta("referrer", referrer);
        // Keep the newest 1,000 views; the count below stays exact.
        const total = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM page_views").one().n;
        if (total > 1000) {
          this.setMeta("page_views_dropped", Number(this.getMeta("page_views_dropped") ?? 0) + total - 1000);
          this.sql.exec(
            "DELETE FROM page_views WHERE id IN (SELECT id FROM page_views ORDER BY at ASC LIMIT ?)",
            total - 1000,
          );
        }
        this.noteClient(info);
      });
      return views.length;
    });
  }

  async visitorInfo(conversationId: string, workspace: string): Promise<Result<VisitorInfo>> {
    return rpc(() => {
      this.requireConversation(conversationId, workspace);
      const agent = parseUserAgent(this.getMeta("user_agent"));
      const geo = this.getMeta("geo");
      const stored = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM page_views").one().n;
      const items = this.sql
        .exec<{ url: string; title: string; at: number; ms: number | null }>(
          "SELECT url, title, at, ms FROM page_views ORDER BY at DESC LIMIT 50",
        )
        .toArray()
        .map((r) => ({ url: r.url, title: r.title, at: r.at, ms: r.ms }));
      const lastSeen = this.getMeta("last_seen");
      const mail = this.sql
        .exec<{ n: number; first: number | null; last: number | null }>(
          "SELECT COUNT(*) AS n, MIN(at) AS first, MAX(at) AS last FROM messages WHERE channel = 'email' AND author_role = 'visitor'",
        )
        .one();
      const mailTo =
        mail.n > 0
          ? this.sql
              .exec<{ to: string | null }>(
                "SELECT json_extract(email, '$.to') AS \"to\" FROM messages WHERE channel = 'email' AND author_role = 'visitor' ORDER BY seq DESC LIMIT 1",
              )
              .one().to
          : null;
      return {
        id: this.getMeta("visitor_id") ?? "",
        name: this.getMeta("visitor_name"),
        email: this.getMeta("visitor_email"),
        online: this.visitorSockets().length > 0,
        lastSeen: lastSeen ? Number(lastSeen) : null,
        ip: this.getMeta("ip"),
        browser: agent.browser,
        os: agent.os,
        device: agent.device,
        bot: agent.bot,
        location: geo ? (JSON.parse(geo) as VisitorInfo["location"]) : null,
        referrer: this.getMeta("referrer"),
        pages: { count: stored + Number(this.getMeta("page_views_dropped") ?? 0), items },
        // The widget's socket records IP and User-Agent, its loader page views: mail records none of them.
        web: stored > 0 || this.getMeta("ip") !== null || this.getMeta("user_agent") !== null,
        mail:
          mail.n > 0 && mail.first !== null && mail.last !== null
            ? { to: mailTo ?? "", count: mail.n, firstAt: mail.first, lastAt: mail.last }
            : null,
      };
    });
  }

  /** Operators correct the visitor's name or email. */
  async updateVisitor(
    conversationId: string,
    workspace: string,
    input: { name?: string | null; email?: string | null },
  ): Promise<Result<VisitorInfo>> {
    const changed = await rpc(() => {
      this.requireConversation(conversationId, workspace);
      if (input.name !== undefined) {
        if (input.name === null) this.deleteMeta("visitor_name");
        else this.setMeta("visitor_name", input.name);
      }
      if (input.email !== undefined) {
        if (input.email === null) this.deleteMeta("visitor_email");
        else this.setMeta("visitor_email", input.email);
      }
      this.broadcast({ type: "state", state: this.state() });
      this.touchIndex(true);
      return null;
    });
    if (!changed.ok) return changed;
    return this.visitorInfo(conversationId, workspace);
  }

  // -------------------------------------------------------------------------
  // Satisfaction survey and report figures

  /** Queues a figure for Report > Operator; sent with the next (coalesced) index report. */
  private stat(kind: "joined" | "message" | "first_response", operatorId: string, value: number): void {
    this.statsPending = true;
    this.sql.exec(
      "INSERT INTO pending_stats (kind, operator_id, at, value) VALUES (?, ?, ?, ?)",
      kind,
      operatorId,
      Date.now(),
      value,
    );
  }

  /**
   * When the last operator leaves, the visitor is offered a survey crediting
   * everyone who took part since the previous offer. It waits until answered
   * or dismissed (shown the next time the widget opens), once per leave.
   */
  private offerSurvey(publicUrl: string): void {
    const operators = this.sql
      .exec<{ operator_id: string; name: string }>("SELECT operator_id, name FROM stretch_operators")
      .toArray()
      .map((r) => ({ id: r.operator_id, name: r.name }));
    if (operators.length === 0) return;
    const survey: StoredSurvey = { id: randomId(), operators, state: "pending" };
    this.setMeta("survey", JSON.stringify(survey));
    this.sql.exec("DELETE FROM stretch_operators");
    // Email-only visitors (no widget open, an address known) get the survey as
    // a link in a follow-up email, if the workspace turned that on.
    if (this.visitorSockets().length === 0 && this.getMeta("visitor_email")) {
      this.ctx.waitUntil(this.emailSurvey(survey, publicUrl));
    }
  }

  private async emailSurvey(survey: StoredSurvey, publicUrl: string): Promise<void> {
    try {
      const ws = this.env.WORKSPACE.get(this.env.WORKSPACE.idFromName(this.getMeta("workspace")!));
      const settings = await ws.getSettings();
      if (!settings.surveyByEmail || !settings.emailAddress) return;
      const token = await signToken(this.env.SESSION_SECRET, {
        t: "rate",
        c: this.id,
        s: survey.id,
        exp: Date.now() + 30 * 24 * 3600 * 1000,
      });
      const link = `${publicUrl.replace(/\/$/, "")}/rate/${token}`;
      const names = survey.operators.map((o) => o.name).join(", ");
      const thread = await ws.ensureEmailThread(this.id!, this.getMeta("visitor_id")!, this.getMeta("visitor_email")!);
      const from = settings.emailAddress;
      const raw = buildReply({
        from: { name: settings.emailName, address: from },
        to: this.getMeta("visitor_email")!,
        replyTo: tokenAddress(from, thread),
        subject: `How was your conversation with ${names}?`,
        text: `Thanks for getting in touch. How did we do? Rate the conversation (1–5) here:\n\n${link}\n\nIt takes one click.`,
        messageId: `<${randomId()}@${from.slice(from.lastIndexOf("@") + 1)}>`,
        inReplyTo: null,
        references: [],
        // A survey mail is automatic: marked so, auto-responders do not answer it.
        autoSubmitted: "auto-generated",
      });
      await this.env.SEND_EMAIL.send(new EmailMessage(from, this.getMeta("visitor_email")!, raw));
      this.setMeta("survey_emailed", survey.id);
    } catch (err) {
      console.error("Conversation", this.id, "survey email failed", err);
    }
  }

  /** A rating from the link in the survey email (RPC from the Worker's /rate page). */
  async rateFromEmail(surveyId: string, rating: number, comment: string | null): Promise<Result<null>> {
    try {
      await this.rate(surveyId, rating, comment ?? undefined);
      return { ok: true, value: null };
    } catch (err) {
      if (err instanceof ConversationError) return { ok: false, status: 404, code: err.code, message: err.message };
      throw err;
    }
  }

  private currentSurvey(surveyId: string): StoredSurvey {
    const raw = this.getMeta("survey");
    const survey = raw ? (JSON.parse(raw) as StoredSurvey) : null;
    if (!survey || survey.id !== surveyId || survey.state !== "pending") {
      throw new ConversationError("not_found", "This survey is no longer open");
    }
    return survey;
  }

  private closeSurvey(surveyId: string): void {
    const survey = this.currentSurvey(surveyId);
    this.setMeta("survey", JSON.stringify({ ...survey, state: "dismissed" }));
    this.broadcast({ type: "state", state: this.state() });
  }

  private async rate(surveyId: string, rating: number, comment: string | undefined): Promise<void> {
    const survey = this.currentSurvey(surveyId);
    const text = `Rated ${rating}/5${comment ? `: ${comment}` : ""}`;
    const message = this.transaction(() => {
      this.setMeta("survey", JSON.stringify({ ...survey, state: "answered" }));
      return this.append(`event:${randomId()}`, "event", { role: "system", id: "", name: "Visitor" }, text, {
        event: "rated",
        rating,
      });
    });
    this.broadcast({ type: "message", message });
    this.broadcast({ type: "state", state: this.state() });
    // Ratings are rare and matter: the workspace hears of them at once.
    const ws = this.env.WORKSPACE.get(this.env.WORKSPACE.idFromName(this.getMeta("workspace")!));
    await ws.recordRating({
      id: survey.id,
      conversationId: this.id!,
      rating,
      comment: comment ?? null,
      operatorIds: survey.operators.map((o) => o.id),
      at: message.at,
    });
  }

  // -------------------------------------------------------------------------
  // Deletion

  /** True once the conversation was deleted (the widget then starts a fresh one). */
  async isDeleted(): Promise<boolean> {
    return this.getMeta("deleted") === "1";
  }

  /**
   * Deletes everything this conversation holds: its attachments in R2, its
   * message log and assignment state, and closes its sockets. What remains
   * is a tombstone (id + "deleted"), so nothing can bring the old
   * conversation back. Returns how many files were removed.
   */
  async erase(conversationId: string, workspace: string): Promise<Result<{ files: number }>> {
    const check = await rpc(() => this.requireConversation(conversationId, workspace));
    if (!check.ok) return check;
    const files = await deleteConversationFiles(this.env.ATTACHMENTS, conversationId);
    for (const ws of this.ctx.getWebSockets()) {
      this.send(ws, { type: "error", code: "deleted", message: "This conversation was deleted" });
      try {
        ws.close(4004, "Conversation deleted");
      } catch {
        // already closed
      }
    }
    await this.ctx.storage.deleteAlarm();
    this.alarmAt = null;
    await this.ctx.storage.deleteAll();
    this.hot = null;
    migrate(this.sql, conversationMigrations);
    this.transaction(() => {
      this.setMeta("id", conversationId);
      this.setMeta("workspace", workspace);
      this.setMeta("deleted", 1);
    });
    return { ok: true, value: { files } };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    this.sql.exec("DELETE FROM used_tickets WHERE expires_at < ?", Date.now());
    await this.flushIndex();
  }

  // -------------------------------------------------------------------------
  // Sending

  private send(ws: WebSocket, frame: ServerFrame): void {
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      // The socket closed under us; its close handler cleans up.
    }
  }

  private sendError(ws: WebSocket, code: ErrorCode, message: string, clientId?: string): void {
    const frame: ServerFrame = clientId ? { type: "error", code, message, clientId } : { type: "error", code, message };
    this.send(ws, frame);
  }

  /** Sockets known to be ready (see `SocketIdentity.ready`); after a wake-up, learned from the attachment. */
  private readySockets = new WeakSet<WebSocket>();

  private isReady(ws: WebSocket): boolean {
    if (this.readySockets.has(ws)) return true;
    const who = ws.deserializeAttachment() as SocketIdentity | null;
    if (!who?.ready) return false;
    this.readySockets.add(ws);
    return true;
  }

  private markReady(ws: WebSocket, who: SocketIdentity, ready: boolean): void {
    ws.serializeAttachment({ ...who, ready });
    if (ready) this.readySockets.add(ws);
    else this.readySockets.delete(ws);
  }

  private broadcast(frame: ServerFrame, except?: WebSocket): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || !this.isReady(ws)) continue;
      try {
        ws.send(text);
      } catch {
        // Closed; ignore.
      }
    }
  }
}
