/**
 * Test helpers: real HTTP requests and real WebSockets against the Worker
 * (and through it the Durable Objects) running in workerd.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import type { Env } from "../worker/env";
import { Refused } from "../worker/errors";
import { migrate } from "../worker/schema/migrate";
import { workspaceMigrations } from "../worker/workspace/schema";
import type {
  ClientFrame,
  ConversationSummary,
  Operator,
  PanelServerFrame,
  ServerFrame,
  VisitorSession,
} from "../worker/protocol";
import type { ConversationContext } from "../worker/conversation/context";
import { init } from "../worker/conversation/lifecycle";
import { identityOf, setIdentity, type SocketIdentity } from "../worker/conversation/sockets";
import type { WorkspaceContext } from "../worker/workspace/context";

export const ORIGIN = "http://microchat.test";
export const ADMIN = { name: "Ada Admin", email: "ada@example.com", password: "correct horse battery" };

export function fetchApp(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(ORIGIN + path, init));
}

export function json(body: unknown, extra: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "Content-Type": "application/json", ...extra }, body: JSON.stringify(body) };
}

function cookieFrom(res: Response): string {
  const set = res.headers.get("Set-Cookie") ?? "";
  const m = /mc_session=([^;]+)/.exec(set);
  if (!m) throw new Error(`no session cookie in ${res.status} response`);
  return `mc_session=${m[1]}`;
}

/** Signs in as the workspace's first admin, creating it if the workspace is new. */
export async function signInAdmin(): Promise<string> {
  const status = (await (await fetchApp("/api/setup")).json()) as { needsSetup: boolean };
  const res = status.needsSetup
    ? await fetchApp("/api/setup", json(ADMIN))
    : await fetchApp("/api/auth/login", json({ email: ADMIN.email, password: ADMIN.password }));
  if (!res.ok) throw new Error(`admin sign-in failed: ${res.status} ${await res.text()}`);
  return cookieFrom(res);
}

let counter = 0;

/** Adds an operator (as admin) and signs them in; returns their cookie and id. */
export async function newOperator(
  adminCookie: string,
  name: string,
): Promise<{ cookie: string; id: string; name: string }> {
  const email = `${name.toLowerCase().replace(/\W+/g, "")}.${Date.now()}.${counter++}@example.com`;
  const password = "operator password 123";
  const add = await fetchApp("/api/operators", json({ name, email, password }, { Cookie: adminCookie }));
  if (add.status !== 201) throw new Error(`add operator failed: ${add.status} ${await add.text()}`);
  const { operator } = (await add.json()) as { operator: { id: string } };
  const login = await fetchApp("/api/auth/login", json({ email, password }));
  return { cookie: cookieFrom(login), id: operator.id, name };
}

/**
 * The hash a site's server computes for `userId` for `Microchat.setUser`: hex
 * HMAC-SHA256 with the identity secret (the tests' own, unless another is given).
 */
export function identityHash(userId: string, secret = "test-identity-secret"): Promise<string> {
  return hmacHex(secret, userId);
}

/** Hex HMAC-SHA256 of `text`, computed here (not by the code under test). */
export async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A refusal as plain data, for exact comparison. */
export type RefusalData = { code: string; message: string };

/** What `fn` resolves to, or the refusal it throws as plain data (anything else it throws is rethrown). */
export async function outcome<T>(fn: () => Promise<T>): Promise<T | RefusalData> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Refused) return { code: err.code, message: err.message };
    throw err;
  }
}

/** The refusal `fn` throws, as plain data; fails when it throws none (or throws something else). */
export function refusal(fn: () => unknown): RefusalData {
  try {
    fn();
  } catch (err) {
    if (err instanceof Refused) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("not refused");
}

/** The refusal `fn` rejects with, as plain data; fails when it resolves (or rejects with something else). */
export async function refusalOf(fn: () => Promise<unknown>): Promise<RefusalData> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof Refused) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("not refused");
}

/** `Microchat.setUser` as the widget sends it: `POST /api/visitor/identify` with the site key added. */
export function identify(body: Record<string, unknown>): Promise<Response> {
  return fetchApp("/api/visitor/identify", {
    method: "POST",
    headers: { "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site" },
    body: JSON.stringify({ siteKey: "demo", ...body }),
  });
}

export async function newVisitorSession(): Promise<VisitorSession> {
  const res = await fetchApp("/api/visitor/session", json({ siteKey: "demo" }));
  if (res.status !== 201) throw new Error(`visitor session failed: ${res.status}`);
  return (await res.json()) as VisitorSession;
}

/** A socket with a queue of received frames and helpers to wait for them. */
export class TestSocket<In extends { type: string }> {
  readonly frames: In[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];
  closed = false;
  /** The close code and reason the server gave, once closed. */
  closeCode: number | null = null;
  closeReason = "";
  /** Settles when this end has seen the socket close (the close event, not a guess by time). */
  readonly whenClosed: Promise<void>;

  constructor(readonly ws: WebSocket) {
    let closed!: () => void;
    this.whenClosed = new Promise<void>((resolve) => (closed = resolve));
    ws.accept();
    ws.addEventListener("message", (e) => {
      this.frames.push(JSON.parse(e.data as string) as In);
      this.wake();
    });
    ws.addEventListener("close", (e) => {
      this.closed = true;
      this.closeCode = e.code;
      this.closeReason = e.reason;
      closed();
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendRaw(data: string | ArrayBuffer): void {
    this.ws.send(data);
  }

  /** Waits for the next frame of `type` after those already consumed. */
  async next<T extends In["type"]>(type: T, timeoutMs = 5000): Promise<Extract<In, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++]!;
        if (f.type === type) return f as Extract<In, { type: T }>;
      }
      if (this.closed) throw new Error(`socket closed while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${type}; got ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Waits, frame by frame, until `condition()` holds; false if the socket
   * closed or `timeoutMs` passed first (the caller says what it saw).
   */
  async settled(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (this.closed || left <= 0) return condition();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits for the server to close this socket; fails saying what the socket received instead. */
  async closedByServer(what: string, timeoutMs = 5000): Promise<void> {
    if (await this.settled(() => this.closed, timeoutMs)) return;
    throw new Error(`${what} is still open; it received ${JSON.stringify(this.frames.map((f) => f.type))}`);
  }

  /** Waits until `predicate` holds for some frame of `type`. */
  async until<T extends In["type"]>(
    type: T,
    predicate: (f: Extract<In, { type: T }>) => boolean,
    timeoutMs = 5000,
  ): Promise<Extract<In, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(type, Math.max(1, deadline - Date.now()));
      if (predicate(f)) return f;
    }
  }

  /**
   * Sends a keep-alive ping and waits for the server's pong. Frames on one
   * socket arrive in order, so once the pong is here every frame (and any
   * close) the server sent before it has arrived too.
   */
  async roundTrip(timeoutMs = 5000): Promise<void> {
    this.send({ type: "ping" });
    await this.next("pong" as In["type"], timeoutMs);
  }

  close(): void {
    try {
      this.ws.close(1000, "done");
    } catch {
      // already closed
    }
  }
}

async function upgrade(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetchApp(path, { headers: { Upgrade: "websocket", Origin: ORIGIN, ...headers } });
}

export async function visitorTicket(session: VisitorSession): Promise<string> {
  const res = await fetchApp("/api/visitor/ticket", {
    method: "POST",
    headers: { Authorization: `Bearer ${session.token}` },
  });
  if (!res.ok) throw new Error(`ticket failed: ${res.status}`);
  return ((await res.json()) as { ticket: string }).ticket;
}

/** Opens the visitor's conversation socket and says hello. */
export async function visitorSocket(session: VisitorSession, lastSeq = 0): Promise<TestSocket<ServerFrame>> {
  const res = await upgrade(`/ws/visitor?ticket=${encodeURIComponent(await visitorTicket(session))}`);
  if (res.status !== 101 || !res.webSocket)
    throw new Error(`visitor upgrade failed: ${res.status} ${await res.text()}`);
  const s = new TestSocket<ServerFrame>(res.webSocket);
  s.send({ type: "hello", lastSeq });
  return s;
}

/** A new conversation with one visitor message in it (the visitor's socket closed again); returns its id. */
export async function conversationWithMessage(text = "Hello from the site"): Promise<string> {
  const { session, v } = await visitorWithMessage(text);
  v.close();
  return session.conversationId;
}

/** A new conversation with one visitor message in it, the visitor's socket still open (its welcome consumed). */
export async function visitorWithMessage(text = "hello") {
  const session = await newVisitorSession();
  const v = await visitorSocket(session);
  const welcome = await v.next("welcome");
  await say(v, text);
  return { session, v, welcome };
}

/** The Durable Object of conversation `id`. */
export const conversationObject = (id: string) => env.CONVERSATION.get(env.CONVERSATION.idFromName(id));

/** A workspace object no other test uses (`tag` starts its name). */
export const freshWorkspace = (tag = "ws-test") =>
  env.WORKSPACE.get(env.WORKSPACE.idFromName(`${tag}-${crypto.randomUUID()}`));

export type WorkspaceObject = ReturnType<typeof freshWorkspace>;

/** A row of the workspace's conversation index, as stored. */
export type IndexRow = { id: string; status: string; preview: string; unread: number; last_at: number };

/**
 * Waits until the index row of conversation `id` in `ws` (the demo
 * workspace unless named) is there and satisfies `ok`: conversations report
 * asynchronously and the workspace applies reports in batches, so a test
 * that reads or changes the stored index directly waits for the report it
 * needs first. Fails saying what it last saw.
 */
export async function indexRow(
  id: string,
  ok: (row: IndexRow) => boolean = () => true,
  ws: WorkspaceObject = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo")),
  ms = 5000,
): Promise<IndexRow> {
  const end = Date.now() + ms;
  for (;;) {
    const row = await runInDurableObject(
      ws,
      (_o, state) =>
        state.storage.sql
          .exec<IndexRow>("SELECT id, status, preview, unread, last_at FROM conversations WHERE id = ?", id)
          .toArray()[0],
    );
    if (row && ok(row)) return row;
    if (Date.now() > end) throw new Error(`index row of ${id} after ${ms} ms: ${JSON.stringify(row ?? null)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sets workspace `ws` up with its first admin (Ada), returned as the operator the workspace sees. */
export async function withAdmin(ws: WorkspaceObject): Promise<Operator> {
  const setup = await ws.setup({ name: "Ada", email: "ada@example.com", passwordHash: "not-a-real-hash" });
  if (!setup.ok) throw new Error(`setup refused: ${setup.code} ${setup.message}`);
  return setup.value.operator;
}

/**
 * Runs `fn` over a fresh workspace object's real storage as the workspace's
 * modules see it, for tests that build one module (`new AuditLog(w)`) and
 * call it directly.
 */
export function inFreshWorkspace<T>(tag: string, fn: (w: WorkspaceContext) => T): Promise<T> {
  return runInDurableObject(freshWorkspace(tag), (_o, state) =>
    fn({ sql: state.storage.sql, ctx: state, env: env as Env }),
  );
}

/** The headers the Worker forwards a panel's upgrade with: the operator, and the session as the socket's grant. */
export const panelGrant = (actorId: string, sessionId: string): Record<string, string> => ({
  "X-Microchat-Actor-Id": actorId,
  "X-Microchat-Grant": `session:${sessionId}`,
  "X-Microchat-Grant-Until": String(Date.now() + 24 * 3600 * 1000),
});

/** A panel's upgrade request as the Worker forwards it to the workspace object, with `headers`. */
export function panelUpgrade(headers: Record<string, string>): Request {
  return new Request("http://workspace/panel", { headers: { Upgrade: "websocket", ...headers } });
}

/**
 * Opens a panel of operator `operatorId` with session `sessionId` (a token's
 * hash) through workspace object `ws`'s own fetch, as the Worker forwards it;
 * its first frames (index, presence) are not read yet.
 */
export async function workspacePanel(
  ws: WorkspaceObject,
  operatorId: string,
  sessionId: string,
): Promise<TestSocket<PanelServerFrame>> {
  const res = await ws.fetch(panelUpgrade(panelGrant(operatorId, sessionId)));
  if (res.status !== 101 || !res.webSocket) throw new Error(`panel refused: ${res.status} ${await res.text()}`);
  return new TestSocket<PanelServerFrame>(res.webSocket);
}

export async function operatorSocket(
  cookie: string,
  conversationId: string,
  lastSeq = 0,
): Promise<TestSocket<ServerFrame>> {
  const res = await upgrade(`/ws/conversations/${conversationId}`, { Cookie: cookie });
  if (res.status !== 101 || !res.webSocket)
    throw new Error(`operator upgrade failed: ${res.status} ${await res.text()}`);
  const s = new TestSocket<ServerFrame>(res.webSocket);
  s.send({ type: "hello", lastSeq });
  return s;
}

export async function panelSocket(cookie: string): Promise<TestSocket<PanelServerFrame>> {
  const res = await upgrade("/ws/panel", { Cookie: cookie });
  if (res.status !== 101 || !res.webSocket) throw new Error(`panel upgrade failed: ${res.status} ${await res.text()}`);
  return new TestSocket<PanelServerFrame>(res.webSocket);
}

/** The admin with the panel open (its index heard), and a new visitor whose socket has its welcome. */
export async function adminWatchingVisitor(): Promise<{
  admin: string;
  panel: TestSocket<PanelServerFrame>;
  session: VisitorSession;
  v: TestSocket<ServerFrame>;
}> {
  const admin = await signInAdmin();
  const panel = await panelSocket(admin);
  await panel.next("index");
  const session = await newVisitorSession();
  const v = await visitorSocket(session);
  await v.next("welcome");
  return { admin, panel, session, v };
}

export function upgradeRaw(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return upgrade(path, headers);
}

/** Sends a text message and waits for its ack. */
export async function say(s: TestSocket<ServerFrame>, text: string, clientId = crypto.randomUUID()) {
  s.send({ type: "send", clientId, text });
  return s.until("ack", (a) => a.clientId === clientId);
}

export async function join(cookie: string, conversationId: string): Promise<Response> {
  return fetchApp(`/api/conversations/${conversationId}/join`, { method: "POST", headers: { Cookie: cookie } });
}

export async function leave(cookie: string, conversationId: string): Promise<Response> {
  return fetchApp(`/api/conversations/${conversationId}/leave`, { method: "POST", headers: { Cookie: cookie } });
}

/** An inbound mail as Email Routing hands it to the Worker's `email()` handler; `rejected` collects its refusals. */
export function inboundMail(raw: string, from: string, to = "support@microchat.example") {
  const bytes = new TextEncoder().encode(raw);
  const rejected: string[] = [];
  const message = {
    from,
    to,
    headers: new Headers(),
    raw: new Response(bytes).body!,
    rawSize: bytes.byteLength,
    setReject(reason: string) {
      rejected.push(reason);
    },
  } as unknown as ForwardableEmailMessage;
  return { message, rejected };
}

/**
 * Moves the time the workspace last confirmed the sessions of conversation `id`'s operator sockets `ms` into the
 * past, in their attachments (what an instance woken from hibernation reads; see conversation/access.ts); answers
 * how many sockets it moved.
 */
export function ageSessionWord(id: string, ms: number): Promise<number> {
  return runInDurableObject(conversationObject(id), (object, state) => {
    const c = (object as unknown as { c: ConversationContext }).c;
    let n = 0;
    for (const ws of state.getWebSockets("operator")) {
      const who = identityOf(c, ws) as (SocketIdentity & { checkedAt?: number }) | null;
      if (who?.checkedAt === undefined) continue;
      setIdentity(c, ws, { ...who, checkedAt: who.checkedAt - ms });
      n++;
    }
    return n;
  });
}

/**
 * Replaces one binding of conversation `id`'s object (until it is evicted),
 * to make a dependency fail where the test needs it to: R2 that cannot list,
 * a send_email that refuses.
 */
export async function failingBinding<K extends keyof Env>(id: string, name: K, binding: unknown): Promise<void> {
  await runInDurableObject(conversationObject(id), (object) => {
    const o = object as unknown as { env: Env };
    o.env = { ...o.env, [name]: binding as Env[K] };
  });
}

/**
 * What conversation `id` hands to its send_email binding, as raw MIME. The
 * real binding still gets every message (it checks and "sends" it as in
 * `wrangler dev`); this only keeps a copy to parse back.
 */
export async function recordSentMail(id: string): Promise<string[]> {
  const sent: string[] = [];
  await runInDurableObject(conversationObject(id), (object) => {
    const o = object as unknown as { env: Env };
    const real = o.env.SEND_EMAIL;
    const send: SendEmail["send"] = async (message) => {
      const raw = (message as unknown as Record<string, unknown>)["EmailMessage::raw"];
      sent.push(typeof raw === "string" ? raw : "(raw is not a string)");
      return real.send(message as EmailMessage);
    };
    o.env = { ...o.env, SEND_EMAIL: { send } as SendEmail };
  });
  return sent;
}

/**
 * Runs migration `id` again over what is stored now, as an object upgraded to
 * it would; the migrations after it stay recorded as applied.
 */
export function rerunMigration(sql: SqlStorage, id: number): void {
  const later = sql
    .exec<{ id: number; name: string; applied_at: number }>("SELECT * FROM _migrations WHERE id > ?", id)
    .toArray();
  sql.exec("DELETE FROM _migrations WHERE id >= ?", id);
  migrate(
    sql,
    workspaceMigrations.filter((m) => m.id <= id),
  );
  for (const m of later)
    sql.exec("INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)", m.id, m.name, m.applied_at);
}

/** An index summary of conversation `id`: unassigned, a visitor's message last at `lastAt`, unless `more` says otherwise. */
export function summaryOf(
  id: string,
  lastAt: number,
  createdAt: number,
  more: Partial<ConversationSummary> = {},
): ConversationSummary {
  return {
    id,
    status: "unassigned",
    visitor: { id: `v-${id}`, name: null, email: null },
    operators: [],
    preview: `hello from ${id}`,
    previewRole: "visitor",
    lastAt,
    unread: 1,
    createdAt,
    ...more,
  };
}

/**
 * A conversation object of its own (its visitor `visitorId`), reporting to a workspace object of its own, for rule
 * tests that call the conversation's modules directly on its real storage.
 */
export function ownConversation(tag: string, visitorId: string) {
  const id = `${tag}-${crypto.randomUUID()}`;
  const workspace = `${tag}-ws-${crypto.randomUUID()}`;
  const stub = () => env.CONVERSATION.get(env.CONVERSATION.idFromName(id));
  const ws = () => env.WORKSPACE.get(env.WORKSPACE.idFromName(workspace));
  return {
    id,
    workspace,
    stub,
    ws,
    /** Runs `fn` inside the conversation object on its own context (the first call records its identity). */
    in<T>(fn: (c: ConversationContext, state: DurableObjectState) => T): Promise<Awaited<T>> {
      return runInDurableObject(stub(), async (o, state): Promise<Awaited<T>> => {
        const c = (o as unknown as { c: ConversationContext }).c;
        if (c.meta.id === null) init(c, id, workspace, visitorId);
        return await fn(c, state);
      });
    },
    /** Runs `fn` over the workspace object's storage. */
    wsSql<T>(fn: (sql: SqlStorage) => T): Promise<T> {
      return runInDurableObject(ws(), (_o, state) => fn(state.storage.sql));
    },
  };
}

/** Every frame `s` received after the first `from`, once a ping's pong shows all the server sent before has arrived (pongs left out). */
export async function framesSince<F extends { type: string }>(s: TestSocket<F>, from: number): Promise<F[]> {
  await s.roundTrip();
  return s.frames.slice(from).filter((f) => (f.type as string) !== "pong");
}
