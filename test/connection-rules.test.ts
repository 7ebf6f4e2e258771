/**
 * A conversation socket's life (worker/conversation/connection.ts), rule by
 * rule, on a conversation object of the test's own with real WebSockets
 * opened through the object's own fetch, carrying the identity headers the
 * Worker sets: who is admitted (identity, a revoked token family, at most
 * MAX_VISITOR_SOCKETS, single-use tickets) and what the socket carries; how
 * each frame is read (its size, binary, JSON, shape) and refused (with the
 * message's clientId, rate limits, a grant that ran out, a failure); what
 * each frame does for whom (send, history, read, profile, rate,
 * dismissSurvey); the welcome of a hello (the newest page, or exactly what
 * was missed, in chunks); and presence when a socket closes. Where a rule
 * needs an object's state set up or read back, it is done inside the object
 * (`runInDurableObject`). (`frames.test.ts`, `messages.test.ts`,
 * `visitor-limits.test.ts` and `conversation-state.test.ts` drive the same
 * rules through the Worker's routes.)
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { join } from "../worker/conversation/assignment";
import { disconnect, receive } from "../worker/conversation/connection";
import type { ConversationContext } from "../worker/conversation/context";
import { MAX_VISITOR_SOCKETS, SOCKET_RETRY_MS } from "../worker/conversation/limits";
import { append } from "../worker/conversation/log";
import { broadcast } from "../worker/conversation/sockets";
import { sha256 } from "../worker/lib/crypto";
import { familyTag, sessionTag } from "../worker/lib/grants";
import { IDENTITY_HEADERS as H } from "../worker/lib/upgrade";
import { LIMITS, type Message, type ServerFrame } from "../worker/protocol";
import { failingBinding, ownConversation, TestSocket, framesSince } from "./helpers";

const VISITOR_ID = "visitor-1";
const FAMILY = "fam-1";
/** Far ahead of the real clock: tickets and grants that do not run out while a test runs, and an alarm never due. */
const FAR = 4_000_000_000_000;
const HOUR = 3600 * 1000;

afterEach(() => vi.restoreAllMocks());

type Welcome = Extract<ServerFrame, { type: "welcome" }>;
type Op = { id: string; name: string; sessionId: string };

/** A conversation object of its own (its visitor VISITOR_ID, not yet in storage), with a workspace object of its own. */
function fresh() {
  const base = ownConversation("connection-rules", VISITOR_ID);
  let tickets = 0;
  const f = {
    ...base,
    /** The headers the Worker forwards with a visitor's upgrade (a fresh ticket each time); `more` overrides, undefined drops. */
    visitor(more: Record<string, string | undefined> = {}): Record<string, string | undefined> {
      return {
        Upgrade: "websocket",
        [H.conversation]: base.id,
        [H.workspace]: base.workspace,
        [H.role]: "visitor",
        [H.actorId]: VISITOR_ID,
        [H.actorName]: "",
        [H.ticketNonce]: `ticket-${++tickets}`,
        [H.ticketExpires]: String(FAR),
        [H.grant]: familyTag(FAMILY),
        [H.grantUntil]: String(FAR),
        ...more,
      };
    },
    /** The object's stored meta keys, read without recording anything (unlike `in`). */
    storedMeta(): Promise<string[]> {
      return runInDurableObject(base.stub(), (_o, state) =>
        state.storage.sql
          .exec<{ key: string }>("SELECT key FROM meta ORDER BY key")
          .toArray()
          .map((r) => r.key),
      );
    },
    /** The headers the Worker forwards with an operator's upgrade. */
    operator(op: Op, more: Record<string, string | undefined> = {}): Record<string, string | undefined> {
      return {
        Upgrade: "websocket",
        [H.conversation]: base.id,
        [H.workspace]: base.workspace,
        [H.role]: "operator",
        [H.actorId]: op.id,
        [H.actorName]: op.name,
        [H.grant]: sessionTag(op.sessionId),
        [H.grantUntil]: String(FAR),
        ...more,
      };
    },
    /** The object's answer to an upgrade with `headers`: the socket (101), or the refusal. */
    async attempt(headers: Record<string, string | undefined>) {
      const h = new Headers();
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) h.set(k, v);
      const res = await base.stub().fetch(new Request("http://conversation/connect", { headers: h }));
      if (res.status === 101 && res.webSocket)
        return { status: 101, socket: new TestSocket<ServerFrame>(res.webSocket) };
      return { status: res.status, retryAfter: res.headers.get("Retry-After"), body: await res.json() };
    },
    /** Opens a socket; fails saying what the object answered instead. */
    async open(headers: Record<string, string | undefined>): Promise<TestSocket<ServerFrame>> {
      const r = await f.attempt(headers);
      if (!("socket" in r) || !r.socket) throw new Error(`upgrade refused: ${r.status} ${JSON.stringify(r.body)}`);
      return r.socket;
    },
    /** Opens a socket and says hello; returns it with its welcome. */
    async welcomed(headers: Record<string, string | undefined>, lastSeq = 0) {
      const s = await f.open(headers);
      s.send({ type: "hello", lastSeq });
      return { s, welcome: await s.next("welcome") };
    },
    /** The workspace's first operator (Olga), signed in: what an operator socket of hers is opened with. */
    async olga(): Promise<Op> {
      const setup = await base.ws().setup({ name: "Olga", email: "olga@example.com", passwordHash: "h" });
      if (!setup.ok) throw new Error(`setup refused: ${setup.message}`);
      return { id: setup.value.operator.id, name: "Olga", sessionId: await sha256(setup.value.token) };
    },
  };
  return f;
}
type Fresh = ReturnType<typeof fresh>;

/** Conversation `f`'s workspace, answering its next availability question only when the test calls `answer`. */
async function heldAvailability(f: Fresh) {
  let asked!: () => void;
  const wasAsked = new Promise<void>((resolve) => (asked = resolve));
  let resolveAnswer: ((available: boolean) => void) | null = null;
  await failingBinding(f.id, "WORKSPACE", {
    idFromName: (name: string) => env.WORKSPACE.idFromName(name),
    get: () => ({
      watchAvailability: () =>
        new Promise<boolean>((resolve) => {
          resolveAnswer = resolve;
          asked();
        }),
    }),
  });
  return { wasAsked, answer: (available: boolean) => resolveAnswer!(available) };
}

/** Stores `n` more visitor messages (text `m<seq>`) straight into the log. */
function seed(c: ConversationContext, n: number): void {
  const from = c.hot.lastSeq;
  for (let i = from + 1; i <= from + n; i++) {
    append(c, `seed-${i}`, "text", { role: "visitor", id: VISITOR_ID, name: "V" }, `m${i}`);
  }
}

const seqs = (messages: Message[]) => messages.map((m) => m.seq);
/** seq from..to, ascending. */
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Waits until `s` has `n` error frames after the first `from`; returns its frames after `from` then (pongs left out). */
async function errorsSince(s: TestSocket<ServerFrame>, from: number, n: number): Promise<ServerFrame[]> {
  const errors = () => s.frames.slice(from).filter((x) => x.type === "error").length;
  if (!(await s.settled(() => errors() >= n))) {
    throw new Error(`expected ${n} error frames; got ${JSON.stringify(s.frames.slice(from))}`);
  }
  return framesSince(s, from);
}

/**
 * Takes away the whole allowance for `action` of `who` (a visitor's, or an id that is not one) for two hours: a frame
 * refused by it is told to wait more than an hour, however slowly the test runs.
 */
const drain = (f: Fresh, who: string, action: string) =>
  f.in((c) => void c.memory.allowances.set(`${who}:${action}`, { tokens: 0, at: Date.now() + 2 * HOUR }));

describe("admitting a socket (connect)", () => {
  it("anything but a WebSocket upgrade is refused 426 before anything is recorded", async () => {
    const f = fresh();
    const seen = await f.attempt(f.visitor({ Upgrade: undefined }));
    expect(seen).toEqual({
      status: 426,
      retryAfter: null,
      body: { error: { code: "upgrade_required", message: "Expected a WebSocket upgrade" } },
    });
    const h2c = await f.stub().fetch(new Request("http://conversation/", { headers: { Upgrade: "h2c" } }));
    expect(h2c.status).toBe(426);
    expect(await f.storedMeta()).toEqual([]);
  });

  it("each missing part of the identity is refused 400 Missing identity, and nothing is recorded", async () => {
    const f = fresh();
    const missing = { error: { code: "bad_request", message: "Missing identity" } };
    const cases: Record<string, Record<string, string | undefined>> = {
      noConversation: { [H.conversation]: undefined },
      emptyConversation: { [H.conversation]: "" },
      noWorkspace: { [H.workspace]: undefined },
      noRole: { [H.role]: undefined },
      otherRole: { [H.role]: "admin" },
      noActor: { [H.actorId]: undefined },
      noGrant: { [H.grant]: undefined },
      grantWithoutUntil: { [H.grantUntil]: undefined },
      grantUntilZero: { [H.grantUntil]: "0" },
      grantUntilNotANumber: { [H.grantUntil]: "soon" },
    };
    const seen: Record<string, unknown> = {};
    for (const [name, more] of Object.entries(cases)) {
      const r = await f.attempt(f.visitor(more));
      seen[name] = "socket" in r ? 101 : { status: r.status, body: r.body };
    }
    expect(seen).toEqual(Object.fromEntries(Object.keys(cases).map((k) => [k, { status: 400, body: missing }])));
    // An operator's upgrade needs the same.
    const op: Op = { id: "op-1", name: "Olga", sessionId: "s-1" };
    const opSeen = await f.attempt(f.operator(op, { [H.actorId]: "" }));
    expect(opSeen).toMatchObject({ status: 400, body: missing });
    expect(await f.storedMeta()).toEqual([]);
    // With all of it the visitor is admitted, and the conversation recorded as theirs.
    const ok = await f.attempt(f.visitor());
    expect(ok.status).toBe(101);
    expect(await f.in((c) => ({ id: c.meta.id, workspace: c.meta.workspace, visitor: c.meta.visitorId }))).toEqual({
      id: f.id,
      workspace: f.workspace,
      visitor: VISITOR_ID,
    });
  });

  it("a visitor is refused on someone else's conversation or another workspace; an operator on a conversation not started", async () => {
    const f = fresh();
    const op: Op = { id: "op-1", name: "Olga", sessionId: "s-1" };
    const notStarted = await f.attempt(f.operator(op));
    await f.open(f.visitor());
    const seen = {
      notStarted,
      otherVisitor: await f.attempt(f.visitor({ [H.actorId]: "visitor-2" })),
      otherWorkspace: await f.attempt(f.visitor({ [H.workspace]: "another-workspace" })),
      otherConversation: await f.attempt(f.visitor({ [H.conversation]: "another-conversation" })),
      operatorOtherWorkspace: await f.attempt(f.operator(op, { [H.workspace]: "another-workspace" })),
      operatorStarted: (await f.attempt(f.operator(op))).status,
    };
    const unknown = {
      status: 404,
      retryAfter: null,
      body: { error: { code: "not_found", message: "Unknown conversation" } },
    };
    expect(seen).toEqual({
      notStarted: unknown,
      otherVisitor: {
        status: 403,
        retryAfter: null,
        body: { error: { code: "forbidden", message: "Not your conversation" } },
      },
      otherWorkspace: unknown,
      otherConversation: unknown,
      operatorOtherWorkspace: unknown,
      operatorStarted: 101,
    });
  });

  it("a visitor whose token family was revoked is refused 401; another family of theirs is admitted", async () => {
    const f = fresh();
    await f.in((c) => void c.sql.exec("INSERT INTO revoked_tokens (family, expires_at) VALUES (?, ?)", "revoked", FAR));
    const revoked = await f.attempt(f.visitor({ [H.grant]: familyTag("revoked") }));
    expect(revoked).toEqual({
      status: 401,
      retryAfter: null,
      body: { error: { code: "unauthorized", message: "This chat session was signed out; start a new one" } },
    });
    expect((await f.attempt(f.visitor({ [H.grant]: familyTag("fine") }))).status).toBe(101);
  });

  it(`a visitor holds at most ${MAX_VISITOR_SOCKETS} sockets: the last of them is admitted, one more refused 429 with Retry-After`, async () => {
    const f = fresh();
    const sockets: TestSocket<ServerFrame>[] = [];
    for (let i = 0; i < MAX_VISITOR_SOCKETS - 1; i++) sockets.push(await f.open(f.visitor()));
    const last = await f.attempt(f.visitor());
    expect(last.status, `socket ${MAX_VISITOR_SOCKETS}`).toBe(101);
    const over = await f.attempt(f.visitor({ [H.ticketNonce]: "over" }));
    expect(over).toEqual({
      status: 429,
      retryAfter: String(SOCKET_RETRY_MS / 1000),
      body: {
        error: {
          code: "rate_limited",
          message: `This chat is open in too many windows (at most ${MAX_VISITOR_SOCKETS}); close one and try again`,
        },
      },
    });
    // Refused before its ticket was spent.
    expect(await f.in((c) => c.sql.exec("SELECT nonce FROM used_tickets WHERE nonce = 'over'").toArray())).toEqual([]);
    // An operator's socket is not one of the visitor's.
    const olga = await f.olga();
    expect((await f.attempt(f.operator(olga))).status).toBe(101);
  });

  it("a ticket is single-use: none, or one used before, is refused 403; a used one is kept until it expires, no alarm set", async () => {
    const f = fresh();
    const forbidden = {
      status: 403,
      retryAfter: null,
      body: { error: { code: "forbidden", message: "Ticket already used" } },
    };
    const expires = FAR + 12_345;
    const seen = {
      none: await f.attempt(f.visitor({ [H.ticketNonce]: undefined })),
      empty: await f.attempt(f.visitor({ [H.ticketNonce]: "" })),
      first: (await f.attempt(f.visitor({ [H.ticketNonce]: "n-1", [H.ticketExpires]: String(expires) }))).status,
      again: await f.attempt(f.visitor({ [H.ticketNonce]: "n-1", [H.ticketExpires]: String(expires) })),
    };
    expect(seen).toEqual({ none: forbidden, empty: forbidden, first: 101, again: forbidden });
    expect(
      await f.in((c) => ({
        rows: c.sql.exec("SELECT nonce, expires_at FROM used_tickets").toArray(),
        alarmAt: c.memory.alarmAt,
      })),
    ).toEqual({ rows: [{ nonce: "n-1", expires_at: expires }], alarmAt: null });
  });

  it("used tickets that expired before now are cleared by the next connection, those expiring now or later kept", async () => {
    const f = fresh();
    const now = FAR - HOUR;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    await f.in((c) => {
      for (const [nonce, at] of [
        ["past", now - 1],
        ["now", now],
        ["later", now + 1],
      ] as const)
        c.sql.exec("INSERT INTO used_tickets (nonce, expires_at) VALUES (?, ?)", nonce, at);
    });
    expect((await f.attempt(f.visitor({ [H.ticketNonce]: "n-2", [H.ticketExpires]: String(FAR) }))).status).toBe(101);
    const left = await f.in((c) =>
      c.sql
        .exec<{ nonce: string }>("SELECT nonce FROM used_tickets ORDER BY expires_at")
        .toArray()
        .map((r) => r.nonce),
    );
    expect(left).toEqual(["now", "later", "n-2"]);
  });

  it("a socket carries who it is (role, id, name: 'Visitor' or 'Operator' when none is given) and its grant, and is tagged by them", async () => {
    const f = fresh();
    await f.open(f.visitor({ [H.actorName]: "Ines", [H.grant]: familyTag("named"), [H.grantUntil]: String(FAR + 1) }));
    await f.open(f.visitor({ [H.grant]: familyTag("anonymous") }));
    const op: Op = { id: "op-1", name: "Olga", sessionId: "s-1" };
    await f.open(f.operator(op));
    await f.open(f.operator({ ...op, name: "" }, { [H.grant]: sessionTag("s-2") }));
    const seen = await f.in((_c, state) =>
      Object.fromEntries(
        ["family:named", "family:anonymous", "session:s-1", "session:s-2"].map((tag) => {
          const [ws, ...more] = state.getWebSockets(tag);
          return [tag, ws && more.length === 0 ? { who: ws.deserializeAttachment(), tags: state.getTags(ws) } : null];
        }),
      ),
    );
    expect(seen).toEqual({
      "family:named": {
        who: { role: "visitor", id: VISITOR_ID, name: "Ines", grant: { tag: "family:named", until: FAR + 1 } },
        tags: ["visitor", `visitor:${VISITOR_ID}`, "family:named"],
      },
      "family:anonymous": {
        who: { role: "visitor", id: VISITOR_ID, name: "Visitor", grant: { tag: "family:anonymous", until: FAR } },
        tags: ["visitor", `visitor:${VISITOR_ID}`, "family:anonymous"],
      },
      "session:s-1": {
        who: { role: "operator", id: "op-1", name: "Olga", grant: { tag: "session:s-1", until: FAR } },
        tags: ["operator", "operator:op-1", "session:s-1"],
      },
      "session:s-2": {
        who: { role: "operator", id: "op-1", name: "Operator", grant: { tag: "session:s-2", until: FAR } },
        tags: ["operator", "operator:op-1", "session:s-2"],
      },
    });
  });

  it("what the visitor's request showed (the client header) is noted; without it nothing is", async () => {
    const f = fresh();
    const g = fresh();
    const client = {
      ip: "203.0.113.7",
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
      geo: { country: "NO", region: "Oslo", city: "Oslo", latitude: 59.9, longitude: 10.7, timezone: "Europe/Oslo" },
    };
    const before = Date.now();
    await f.open(f.visitor({ [H.client]: JSON.stringify(client) }));
    await g.open(g.visitor());
    const noted = (c: ConversationContext) => ({
      ip: c.meta.ip,
      userAgent: c.meta.userAgent,
      geo: c.meta.geo,
      lastSeen: c.meta.lastSeen,
    });
    const withHeader = await f.in(noted);
    expect(withHeader).toEqual({ ...client, lastSeen: expect.any(Number) });
    expect(withHeader.lastSeen).toBeGreaterThanOrEqual(before);
    expect(await g.in(noted)).toEqual({ ip: null, userAgent: null, geo: null, lastSeen: null });
  });

  it("the visitor's first socket tells ready operators the visitor is online; a second socket tells no one", async () => {
    const f = fresh();
    await f.in(() => undefined); // the conversation exists, its visitor offline
    const { s: op, welcome } = await f.welcomed(f.operator(await f.olga()));
    expect(welcome.state.visitorOnline).toBe(false);
    const v1 = await f.open(f.visitor());
    const online = await op.next("state");
    expect(online.state).toMatchObject({ id: f.id, visitorOnline: true });
    const from = op.frames.length;
    const v2 = await f.open(f.visitor());
    expect(await framesSince(op, from), "frames to the operator after the second visitor socket").toEqual([]);
    // Neither visitor socket said hello: they hear nothing.
    expect([...(await framesSince(v1, 0)), ...(await framesSince(v2, 0))]).toEqual([]);
  });
});

describe("reading a frame (receive)", () => {
  it(`a frame of exactly LIMITS.frameBytes (${LIMITS.frameBytes}) UTF-16 units is read, one more is too_large; binary frames are refused`, async () => {
    const f = fresh();
    const s = await f.open(f.visitor());
    /** A hello of exactly `n` UTF-16 units, padded with "é" (two bytes each in UTF-8) in a field the frame ignores. */
    const hello = (n: number) => {
      const head = '{"type":"hello","lastSeq":0,"pad":"';
      const text = `${head}${"é".repeat(n - head.length - 2)}"}`;
      expect(text.length).toBe(n);
      return text;
    };
    s.sendRaw(hello(LIMITS.frameBytes));
    const welcome = await s.next("welcome");
    expect(welcome.role).toBe("visitor");
    const tooLarge = { type: "error", code: "too_large", message: `Frame is larger than ${LIMITS.frameBytes} bytes` };
    const binary = { type: "error", code: "bad_frame", message: "Binary frames are not supported" };
    const from = s.frames.length;
    s.sendRaw(hello(LIMITS.frameBytes + 1));
    s.sendRaw(new Uint8Array(LIMITS.frameBytes + 1).buffer);
    s.sendRaw(new Uint8Array(LIMITS.frameBytes).buffer);
    s.sendRaw(new Uint8Array([123, 125]).buffer); // "{}" as bytes
    expect(await errorsSince(s, from, 4)).toEqual([tooLarge, tooLarge, binary, binary]);
  });

  it("bad JSON, a frame that is no frame, an unknown type and a bad field are answered with their code; a send's names its clientId", async () => {
    const f = fresh();
    const { s } = await f.welcomed(f.visitor());
    const from = s.frames.length;
    s.sendRaw("{not json");
    s.sendRaw("[1,2]");
    s.send({ type: "launch-missiles" });
    s.send({ type: "hello", lastSeq: -1 });
    s.send({ type: "history", beforeSeq: -1 });
    s.send({ type: "send", clientId: "too-long", text: "x".repeat(LIMITS.messageChars + 1) });
    s.send({ type: "send", clientId: "not-text", text: 42 });
    const answers = await errorsSince(s, from, 7);
    expect(answers.slice(0, 5)).toEqual([
      { type: "error", code: "bad_json", message: "Frame is not valid JSON" },
      { type: "error", code: "bad_frame", message: "A frame is an object with a string `type`" },
      { type: "error", code: "unknown_type", message: "Unknown frame type" },
      { type: "error", code: "bad_frame", message: "hello.lastSeq must be a non-negative integer" },
      { type: "error", code: "bad_frame", message: "history.beforeSeq must be a non-negative integer" },
    ]);
    expect(answers.slice(5)).toEqual([
      { type: "error", code: "too_large", message: expect.any(String), clientId: "too-long" },
      { type: "error", code: "bad_frame", message: expect.any(String), clientId: "not-text" },
    ]);
    expect(await f.in((c) => c.hot.lastSeq), "messages stored").toBe(0);
  });

  it("a refusal while a send is handled names its clientId; a refusal of any other frame does not", async () => {
    const f = fresh();
    const { s } = await f.welcomed(f.visitor());
    const from = s.frames.length;
    s.send({ type: "send", clientId: "by-mail", text: "mail this", channel: "email" });
    s.send({ type: "read", seq: 0 });
    expect(await errorsSince(s, from, 2)).toEqual([
      { type: "error", code: "forbidden", message: "Only operators reply by email", clientId: "by-mail" },
      { type: "error", code: "forbidden", message: "Only operators mark messages read" },
    ]);
    expect(await f.in((c) => c.hot.lastSeq), "messages stored").toBe(0);
  });

  it("an unexpected failure is answered internal (no clientId) and logged with the conversation, the operator and the frame", async () => {
    const f = fresh();
    const { s: v } = await f.welcomed(f.visitor());
    const olga = await f.olga();
    const { s: op } = await f.welcomed(f.operator(olga));
    const logged: unknown[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(line));
    /** The object's context, but its storage fails: the frame fails halfway, not by a refusal. */
    const failing = (c: ConversationContext) =>
      new Proxy(c, {
        get: (target, prop) =>
          prop === "sql"
            ? {
                exec: () => {
                  throw new Error("disk on fire");
                },
              }
            : Reflect.get(target, prop, target),
      });
    const fromV = v.frames.length;
    const fromOp = op.frames.length;
    await f.in(async (c, state) => {
      const [visitorWs] = state.getWebSockets("visitor");
      const [operatorWs] = state.getWebSockets("operator");
      await receive(failing(c), visitorWs!, JSON.stringify({ type: "send", clientId: "c-1", text: "hi" }));
      await receive(failing(c), operatorWs!, JSON.stringify({ type: "history", beforeSeq: 1 }));
    });
    const internal = { type: "error", code: "internal", message: "Something went wrong; please retry" };
    expect(await errorsSince(v, fromV, 1)).toEqual([internal]);
    expect(await errorsSince(op, fromOp, 1)).toEqual([internal]);
    const failures = logged.filter((line) => (line as { event?: string }).event === "socket_frame.failed");
    expect(failures, JSON.stringify(logged)).toEqual([
      expect.objectContaining({
        event: "socket_frame.failed",
        conversationId: f.id,
        operatorId: null,
        frame: "send",
        error: "Error: disk on fire",
      }),
      expect.objectContaining({
        event: "socket_frame.failed",
        conversationId: f.id,
        operatorId: olga.id,
        frame: "history",
        error: "Error: disk on fire",
      }),
    ]);
  });

  it("a visitor's frame over their allowance is refused rate_limited with the wait (a send's with its clientId), nothing done, the socket open", async () => {
    const f = fresh();
    const { s } = await f.welcomed(f.visitor());
    await drain(f, VISITOR_ID, "send");
    await drain(f, VISITOR_ID, "profile");
    const from = s.frames.length;
    s.send({ type: "send", clientId: "too-fast", text: "hello?" });
    s.send({ type: "profile", name: "Ines" });
    const [send, profile, ...rest] = await errorsSince(s, from, 2);
    expect(rest).toEqual([]);
    expect(send).toEqual({
      type: "error",
      code: "rate_limited",
      message: expect.stringMatching(/^You're sending messages too fast; try again in \d+ s$/),
      retryAfterMs: expect.any(Number),
      clientId: "too-fast",
    });
    expect(profile).toEqual({
      type: "error",
      code: "rate_limited",
      message: expect.stringMatching(/^You're changing your name or email too fast; try again in \d+ s$/),
      retryAfterMs: expect.any(Number),
    });
    for (const e of [send, profile]) expect(e?.type === "error" && e.retryAfterMs).toBeGreaterThan(HOUR);
    expect(await f.in((c) => ({ lastSeq: c.hot.lastSeq, name: c.meta.visitorName }))).toEqual({
      lastSeq: 0,
      name: null,
    });
    // Still open, and what is within the allowance is done.
    s.send({ type: "history", beforeSeq: 1 });
    expect(await s.next("history")).toEqual({ type: "history", messages: [], hasMore: false });
    expect(s.closed).toBe(false);
  });

  it("a hello over the allowance is refused and closes the socket (1013, try again later)", async () => {
    const f = fresh();
    const s = await f.open(f.visitor());
    await drain(f, VISITOR_ID, "hello");
    s.send({ type: "hello", lastSeq: 0 });
    const err = await s.next("error");
    await s.closedByServer("the socket of a hello over the allowance");
    expect(err).toEqual({
      type: "error",
      code: "rate_limited",
      message: expect.stringMatching(/^You're reconnecting too fast; try again in \d+ s$/),
      retryAfterMs: expect.any(Number),
    });
    expect({ code: s.closeCode, reason: s.closeReason }).toEqual({
      code: 1013,
      reason: "Reconnecting too fast; try again later",
    });
    expect(s.frames.map((x) => x.type)).toEqual(["error"]);
  });

  it("an operator's frames are not limited: an allowance under their id counts for nothing", async () => {
    const f = fresh();
    await f.in((c) => seed(c, 3));
    const olga = await f.olga();
    for (const action of ["hello", "history", "send"]) await drain(f, olga.id, action);
    const { s, welcome } = await f.welcomed(f.operator(olga));
    expect(seqs(welcome.messages)).toEqual([1, 2, 3]);
    s.send({ type: "history", beforeSeq: 3 });
    expect(seqs((await s.next("history")).messages)).toEqual([1, 2]);
    expect(await framesSince(s, 0).then((all) => all.filter((x) => x.type === "error"))).toEqual([]);
  });

  it("a frame on a socket whose grant ran out is not done: the socket closes (4001)", async () => {
    const f = fresh();
    const s = await f.open(f.visitor({ [H.grantUntil]: "1" }));
    s.send({ type: "send", clientId: "late", text: "after my time" });
    await s.closedByServer("a socket whose grant ran out");
    expect({ code: s.closeCode, reason: s.closeReason, frames: s.frames }).toEqual({
      code: 4001,
      reason: "Session expired",
      frames: [],
    });
    expect(await f.in((c) => c.hot.lastSeq), "messages stored").toBe(0);
  });

  it("a socket that lost its identity is closed 1011 on its next frame, and the frame goes no further", async () => {
    const f = fresh();
    const s = await f.open(f.visitor());
    // Handed to `receive` here, so that anything it does after the close (or throws) is seen.
    const handled = await f.in(async (c, state) => {
      const [ws] = state.getWebSockets("visitor");
      // Gone from the attachment, and so from what a woken instance reads (its copy is empty).
      ws!.serializeAttachment(null);
      c.memory.identities.delete(ws!);
      await receive(c, ws!, JSON.stringify({ type: "send", clientId: "orphan", text: "who am I?" }));
      return { lastSeq: c.hot.lastSeq };
    });
    await s.closedByServer("a socket without its identity");
    expect({ handled, code: s.closeCode, reason: s.closeReason, frames: s.frames }).toEqual({
      handled: { lastSeq: 0 },
      code: 1011,
      reason: "Lost identity",
      frames: [],
    });
  });
});

describe("what a frame does (handle)", () => {
  it("a send is stored under the socket's identity on the chat channel and acked with its seq and time; others hear it", async () => {
    const f = fresh();
    await f.in(() => undefined);
    const olga = await f.olga();
    const { s: op } = await f.welcomed(f.operator(olga));
    const { s: v } = await f.welcomed(f.visitor({ [H.actorName]: "Ines" }));
    v.send({ type: "send", clientId: "first", text: "hello there" });
    const ack = await v.next("ack");
    const row = await f.in((c) =>
      c.sql
        .exec("SELECT seq, client_id, kind, author_role, author_id, author_name, text, channel, at FROM messages")
        .toArray(),
    );
    expect(row).toEqual([
      {
        seq: 1,
        client_id: "first",
        kind: "text",
        author_role: "visitor",
        author_id: VISITOR_ID,
        author_name: "Ines",
        text: "hello there",
        channel: "chat",
        at: ack.at,
      },
    ]);
    expect(ack).toEqual({ type: "ack", clientId: "first", seq: 1, at: ack.at });
    const heard = await op.until("message", (m) => m.message.clientId === "first");
    expect(heard.message).toMatchObject({ seq: 1, text: "hello there", author: { role: "visitor", name: "Ines" } });
    // The sender is not told again of its own message (the state is the conversation's, now waiting for an answer).
    expect((await framesSince(v, 0)).map((x) => x.type)).toEqual(["welcome", "state", "ack"]);
  });

  it("an operator's send: chat needs a join; email goes to the Email channel's checks (no address yet)", async () => {
    const f = fresh();
    await f.in(() => undefined);
    const olga = await f.olga();
    const { s } = await f.welcomed(f.operator(olga));
    const from = s.frames.length;
    s.send({ type: "send", clientId: "chat-1", text: "hi" });
    s.send({ type: "send", clientId: "mail-1", text: "hi by mail", channel: "email" });
    expect(await errorsSince(s, from, 2)).toEqual([
      { type: "error", code: "forbidden", message: "Join the conversation to reply", clientId: "chat-1" },
      // no_email is not a socket code: a refused frame, in the refusal's own words.
      { type: "error", code: "bad_frame", message: "This visitor has not given an email address", clientId: "mail-1" },
    ]);
    await f.in((c) => void join(c, { id: olga.id, name: olga.name }));
    s.send({ type: "send", clientId: "chat-2", text: "now joined" });
    expect(await s.next("ack")).toMatchObject({ clientId: "chat-2" });
  });

  it(`history: ${LIMITS.historyPage} messages unless asked, as many as asked up to ${LIMITS.historyPageMax}`, async () => {
    const f = fresh();
    await f.in((c) => seed(c, 250));
    const { s } = await f.welcomed(f.visitor(), 250);
    const history = async (frame: Record<string, unknown>) => {
      s.send({ type: "history", ...frame });
      const h = await s.next("history");
      return { seqs: seqs(h.messages), hasMore: h.hasMore };
    };
    expect(await history({ beforeSeq: 251 })).toEqual({ seqs: range(201, 250), hasMore: true });
    expect(await history({ beforeSeq: 251, limit: 3 })).toEqual({ seqs: [248, 249, 250], hasMore: true });
    expect(await history({ beforeSeq: 251, limit: LIMITS.historyPageMax })).toEqual({
      seqs: range(51, 250),
      hasMore: true,
    });
    expect(await history({ beforeSeq: 251, limit: LIMITS.historyPageMax + 1 })).toEqual({
      seqs: range(51, 250),
      hasMore: true,
    });
    expect(await history({ beforeSeq: 201, limit: LIMITS.historyPageMax })).toEqual({
      seqs: range(1, 200),
      hasMore: false,
    });
  });

  it("read is the operators'; profile, rate and dismissSurvey the visitor's: each refused to the other role in its words", async () => {
    const f = fresh();
    await f.in((c) => seed(c, 3));
    const olga = await f.olga();
    const { s: op } = await f.welcomed(f.operator(olga));
    const { s: v } = await f.welcomed(f.visitor());
    const fromOp = op.frames.length;
    op.send({ type: "profile", name: "Not Me" });
    op.send({ type: "rate", surveyId: "no-survey", rating: 5 });
    op.send({ type: "dismissSurvey", surveyId: "no-survey" });
    expect(await errorsSince(op, fromOp, 3)).toEqual([
      { type: "error", code: "forbidden", message: "Only the visitor sets their profile" },
      { type: "error", code: "forbidden", message: "Only the visitor rates the conversation" },
      { type: "error", code: "forbidden", message: "Only the visitor answers the survey" },
    ]);
    const fromV = v.frames.length;
    v.send({ type: "read", seq: 3 });
    // The visitor's own frames reach their rules: no survey is open.
    v.send({ type: "rate", surveyId: "no-survey", rating: 5 });
    v.send({ type: "dismissSurvey", surveyId: "no-survey" });
    const noSurvey = { type: "error", code: "not_found", message: "This survey is no longer open" };
    expect(await errorsSince(v, fromV, 3)).toEqual([
      { type: "error", code: "forbidden", message: "Only operators mark messages read" },
      noSurvey,
      noSurvey,
    ]);
    // The operator's read and the visitor's profile are done.
    op.send({ type: "read", seq: 2 });
    op.send({ type: "history", beforeSeq: 1 }); // answered once the read before it was handled
    await op.next("history");
    v.send({ type: "profile", name: "Ines" });
    const state = await v.next("state");
    expect(state.state.visitor.name).toBe("Ines");
    expect(await f.in((c) => ({ lastReadSeq: c.meta.lastReadSeq, name: c.meta.visitorName }))).toEqual({
      lastReadSeq: 2,
      name: "Ines",
    });
    expect((await framesSince(op, fromOp + 3)).filter((x) => x.type === "error")).toEqual([]);
  });
});

describe("the welcome (hello)", () => {
  const WELCOME_KEYS = ["hasMore", "messages", "partial", "role", "state", "type", "you"];

  it("a visitor's welcome says whether anyone is available to answer; an operator's does not have the field", async () => {
    const f = fresh();
    await f.in((c) => seed(c, 2));
    const olga = await f.olga();
    const { welcome: visitor } = await f.welcomed(f.visitor());
    const { welcome: operator } = await f.welcomed(f.operator(olga));
    expect(Object.keys(visitor).sort()).toEqual(["available", ...WELCOME_KEYS]);
    expect(visitor).toMatchObject({
      role: "visitor",
      you: VISITOR_ID,
      available: false,
      hasMore: false,
      partial: false,
    });
    expect(visitor.state).toMatchObject({ id: f.id, lastSeq: 2, visitorOnline: true });
    expect(Object.keys(operator).sort()).toEqual(WELCOME_KEYS);
    expect(operator).toMatchObject({ role: "operator", you: olga.id, hasMore: false, partial: false });
    expect(seqs(visitor.messages)).toEqual([1, 2]);
    expect(seqs(operator.messages)).toEqual([1, 2]);
  });

  it("when the workspace cannot be asked, the visitor is told someone is available (the widget stays a chat)", async () => {
    const f = fresh();
    await failingBinding(f.id, "WORKSPACE", {
      idFromName: (name: string) => env.WORKSPACE.idFromName(name),
      get: () => ({ watchAvailability: () => Promise.reject(new Error("workspace unreachable")) }),
    });
    const { welcome } = await f.welcomed(f.visitor());
    expect(welcome).toMatchObject({ role: "visitor", available: true, messages: [], partial: false });
  });

  it(`a fresh open (lastSeq 0) and a client ahead of the log get the newest ${LIMITS.historyPage}; a client caught up gets none`, async () => {
    const f = fresh();
    const n = LIMITS.historyPage + 10;
    await f.in((c) => seed(c, n));
    const page = { seqs: range(n - LIMITS.historyPage + 1, n), hasMore: true, partial: false };
    const of = (w: Welcome) => ({ seqs: seqs(w.messages), hasMore: w.hasMore, partial: w.partial });
    const seen: Record<string, unknown> = {};
    for (const [name, lastSeq] of [
      ["fresh", 0],
      ["ahead", n + 1],
      ["farAhead", n + 1000],
      ["caughtUp", n],
    ] as const) {
      const { s, welcome } = await f.welcomed(f.visitor(), lastSeq);
      seen[name] = { ...of(welcome), after: (await framesSince(s, 1)).map((x) => x.type) };
      s.close();
    }
    expect(seen).toEqual({
      fresh: { ...page, after: [] },
      ahead: { ...page, after: [] },
      farAhead: { ...page, after: [] },
      caughtUp: { seqs: [], hasMore: true, partial: false, after: [] },
    });
    // With exactly a page stored, nothing is older.
    const g = fresh();
    await g.in((c) => seed(c, LIMITS.historyPage));
    const { welcome } = await g.welcomed(g.visitor());
    expect(of(welcome)).toEqual({ seqs: range(1, LIMITS.historyPage), hasMore: false, partial: false });
  });

  const CHUNK = LIMITS.resumeChunk;
  it.each([
    { missed: 1, chunks: [1] },
    { missed: CHUNK - 1, chunks: [CHUNK - 1] },
    { missed: CHUNK, chunks: [CHUNK] },
    { missed: CHUNK + 1, chunks: [CHUNK, 1] },
    { missed: 2 * CHUNK, chunks: [CHUNK, CHUNK] },
    { missed: 2 * CHUNK + 1, chunks: [CHUNK, CHUNK, 1] },
  ])(
    `a resume sends exactly the $missed missed, in order, in chunks of at most ${CHUNK}: $chunks`,
    async ({ missed, chunks }) => {
      const f = fresh();
      const had = 7;
      await f.in((c) => seed(c, had + missed));
      const { s, welcome } = await f.welcomed(f.visitor(), had);
      // Once a welcome that is not partial, or a chunk that is done, is in, the resume is over.
      for (let done = !welcome.partial; !done;) done = (await s.next("messages")).done;
      const frames = await framesSince(s, 0);
      const shape = frames.map((x) =>
        x.type === "welcome"
          ? { type: x.type, n: x.messages.length, hasMore: x.hasMore, partial: x.partial }
          : x.type === "messages"
            ? { type: x.type, n: x.messages.length, done: x.done }
            : { type: x.type },
      );
      expect(shape).toEqual(
        chunks.map((n, i) =>
          i === 0
            ? { type: "welcome", n, hasMore: true, partial: chunks.length > 1 }
            : { type: "messages", n, done: i === chunks.length - 1 },
        ),
      );
      const got = frames.flatMap((x) => (x.type === "welcome" || x.type === "messages" ? seqs(x.messages) : []));
      expect(got, "every missed message once, in order").toEqual(range(had + 1, had + missed));
      expect(welcome.state.lastSeq).toBe(had + missed);
    },
  );

  it("a second hello starts over: what is said while its welcome is prepared comes in that welcome, not before it", async () => {
    const f = fresh();
    const { s } = await f.welcomed(f.visitor());
    // The next availability question waits for the test's answer.
    const { wasAsked, answer } = await heldAvailability(f);
    s.send({ type: "hello", lastSeq: 0 });
    await wasAsked;
    const say = (c: ConversationContext, text: string) => {
      const message = append(c, text, "text", { role: "operator", id: "op-1", name: "Olga" }, text)!;
      broadcast(c, { type: "message", message });
    };
    await f.in((c) => {
      say(c, "said meanwhile");
      answer(true);
    });
    const second = await s.next("welcome");
    expect(second).toMatchObject({ available: true, partial: false });
    expect(second.messages.map((m) => m.text)).toEqual(["said meanwhile"]);
    await f.in((c) => say(c, "said after"));
    const live = await s.next("message");
    expect(live.message.text).toBe("said after");
    expect(s.frames.map((x) => x.type)).toEqual(["welcome", "welcome", "message"]);
    expect(await f.in((_c, state) => state.getWebSockets("visitor")[0]!.deserializeAttachment())).toMatchObject({
      ready: true,
    });
  });
});

describe("whether anyone can answer (availability)", () => {
  it("a visitor's hello asks the workspace, naming the conversation, which then tells it of changes", async () => {
    const f = fresh();
    const { welcome } = await f.welcomed(f.visitor());
    expect(welcome.available).toBe(false);
    const watched = await f.wsSql((q) =>
      q.exec<{ conversation_id: string }>("SELECT conversation_id FROM availability_watchers").toArray(),
    );
    expect(watched).toEqual([{ conversation_id: f.id }]);
  });

  it("a change is sent to the visitor's sockets that had their welcome, not to one still saying hello nor to operators", async () => {
    const f = fresh();
    const { s: ready } = await f.welcomed(f.visitor());
    const waiting = await f.open(f.visitor());
    const { s: op } = await f.welcomed(f.operator(await f.olga()));
    const from = { ready: ready.frames.length, waiting: waiting.frames.length, op: op.frames.length };
    expect(await f.stub().availabilityChanged(true)).toBe(true);
    expect(await framesSince(ready, from.ready)).toEqual([{ type: "availability", available: true }]);
    expect(await framesSince(waiting, from.waiting)).toEqual([]);
    expect(await framesSince(op, from.op)).toEqual([]);
  });

  it("with no visitor socket open the conversation answers false, so the workspace stops telling it", async () => {
    const f = fresh();
    expect(await f.stub().availabilityChanged(true)).toBe(false);
    await f.in(() => undefined); // the conversation exists, with no visitor on it
    const { s: op } = await f.welcomed(f.operator(await f.olga()));
    expect(await f.stub().availabilityChanged(false)).toBe(false);
    op.close();
  });

  it("a change told while a hello waits for the workspace's answer wins over that answer", async () => {
    const f = fresh();
    const { wasAsked, answer } = await heldAvailability(f);
    const s = await f.open(f.visitor());
    s.send({ type: "hello", lastSeq: 0 });
    await wasAsked;
    // The workspace tells "someone" while its older answer ("nobody") is on its way: the socket is not ready yet.
    expect(await f.stub().availabilityChanged(true)).toBe(true);
    answer(false);
    expect((await s.next("welcome")).available).toBe(true);
    expect((await framesSince(s, 0)).map((x) => x.type)).toEqual(["welcome"]);
  });

  it("the visitor's last socket closing asks the workspace to stop telling; one of two closing does not", async () => {
    const f = fresh();
    // Every call to the workspace, in the order the conversation makes them (each then goes to the real one).
    const calls: string[] = [];
    await f.in(() => undefined);
    await failingBinding(f.id, "WORKSPACE", {
      idFromName: (name: string) => env.WORKSPACE.idFromName(name),
      get: (id: DurableObjectId) => {
        const real = env.WORKSPACE.get(id);
        return {
          watchAvailability: (c: string) => (calls.push(`watch ${c}`), real.watchAvailability(c)),
          unwatchAvailability: (c: string) => (calls.push(`unwatch ${c}`), real.unwatchAvailability(c)),
        };
      },
    });
    const { s: first } = await f.welcomed(f.visitor());
    const { s: second } = await f.welcomed(f.visitor());
    first.close();
    await first.whenClosed;
    // A hello after the close: its question comes after anything the close asked.
    second.send({ type: "hello", lastSeq: 0 });
    await second.next("welcome");
    expect(calls).toEqual([`watch ${f.id}`, `watch ${f.id}`, `watch ${f.id}`]);
    second.close();
    await second.whenClosed;
    const end = Date.now() + 5000;
    while ((await f.wsSql((q) => q.exec("SELECT 1 FROM availability_watchers").toArray().length)) !== 0) {
      if (Date.now() > end) throw new Error(`still recorded after the last socket closed; calls: ${calls.join(", ")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(calls.slice(3)).toEqual([`unwatch ${f.id}`]);
  });
});

describe("a socket closing (disconnect)", () => {
  it("the close is answered with the client's code", async () => {
    const f = fresh();
    const { s } = await f.welcomed(f.visitor());
    s.ws.close(4321, "bye");
    await s.whenClosed;
    expect({ code: s.closeCode, reason: s.closeReason }).toEqual({ code: 4321, reason: "Closed" });
  });

  it("the visitor's last socket closing marks when they were last seen and tells operators they are offline; with another open, nothing", async () => {
    const f = fresh();
    await f.in(() => undefined);
    const { s: op } = await f.welcomed(f.operator(await f.olga()));
    await f.open(f.visitor({ [H.grant]: familyTag("a") }));
    await f.open(f.visitor({ [H.grant]: familyTag("b") }));
    await op.until("state", (x) => x.state.visitorOnline);
    const T1 = FAR + 1;
    const T2 = FAR + 2;
    /** Closes the visitor socket of family `family` as the runtime would, the clock at `at`. */
    const closeAt = (family: string, at: number) =>
      f.in((c, state) => {
        const [ws] = state.getWebSockets(familyTag(family));
        const spy = vi.spyOn(Date, "now").mockReturnValue(at);
        try {
          disconnect(c, ws!, 1000);
        } finally {
          spy.mockRestore();
        }
        return c.meta.lastSeen;
      });
    const from = op.frames.length;
    expect(await closeAt("a", T1), "last seen, one socket left").toBeNull();
    expect(await framesSince(op, from), "frames to the operator, one socket left").toEqual([]);
    expect(await closeAt("b", T2), "last seen, none left").toBe(T2);
    const offline = await op.next("state");
    expect(offline.state).toMatchObject({ id: f.id, visitorOnline: false });
  });

  it("an operator's socket closing (no visitor socket open), one that lost its identity, or the visitor's once the conversation was deleted, marks no one last seen", async () => {
    const f = fresh();
    await f.in(() => undefined);
    const lastSeen = (tag: string, deleted: boolean) =>
      f.in((c, state) => {
        if (deleted) c.meta.deleted = true;
        disconnect(c, state.getWebSockets(tag)[0]!, 1000);
        return c.meta.lastSeen;
      });
    await f.open(f.operator({ id: "op-1", name: "Olga", sessionId: "s-1" }));
    expect(await lastSeen("operator", false), "after the operator's socket closed").toBeNull();
    await f.open(f.visitor({ [H.grant]: familyTag("lost") }));
    await f.in((c, state) => {
      const ws = state.getWebSockets(familyTag("lost"))[0]!;
      ws.serializeAttachment(null);
      c.memory.identities.delete(ws);
    });
    expect(await lastSeen(familyTag("lost"), false), "after a socket without its identity closed").toBeNull();
    await f.open(f.visitor());
    expect(await lastSeen("visitor", true), "after the deleted conversation's visitor socket closed").toBeNull();
  });
});
