/**
 * Panel sockets (worker/workspace/panel-sockets.ts), rule by rule, on a fresh
 * workspace object with real operators and sessions and real WebSockets
 * opened through the object's own fetch (as the Worker forwards them): who
 * may open a panel and what it is tagged with, the first frame and its page
 * sizes, what a panel may ask and how each bad frame is answered, the session
 * check on every frame, closing and presence, which panels hear which frame
 * (every panel, all but one, operators who are not away), ending a session's
 * or an operator's panels, and the once-a-minute look for panels whose
 * session lapsed (the clock set by the test). (`index.test.ts`,
 * `presence.test.ts` and `socket-rights.test.ts` drive the same rules through
 * the Worker's routes.)
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../worker/env";
import { sha256 } from "../worker/lib/crypto";
import type { ConversationSummary, Operator, OperatorRef, PanelServerFrame } from "../worker/protocol";
import type { WorkspaceContext } from "../worker/workspace/context";
import type { ConversationIndex } from "../worker/workspace/conversation-index";
import type { Operators } from "../worker/workspace/operators";
import { PanelSockets } from "../worker/workspace/panel-sockets";
import {
  freshWorkspace,
  panelGrant as grantOf,
  panelUpgrade as upgrade,
  summaryOf,
  TestSocket,
  workspacePanel,
  type WorkspaceObject,
  framesSince,
} from "./helpers";

const T0 = 1_700_000_000_000;

interface Op {
  id: string;
  name: string;
  token: string;
  sessionId: string;
}

interface Team<N extends string> {
  ws: WorkspaceObject;
  admin: Operator;
  ops: Record<N, Op>;
}

/** A fresh workspace whose first operator is its admin; each operator signed in once; some away. */
async function team<const N extends string>(names: readonly N[], away: readonly N[] = []): Promise<Team<N>> {
  const ws = freshWorkspace("panel-rules");
  const [first, ...rest] = names;
  if (first === undefined) throw new Error("a team needs someone");
  const setup = await ws.setup({ name: first, email: `${first.toLowerCase()}@example.com`, passwordHash: "h" });
  if (!setup.ok) throw new Error(`setup refused: ${setup.message}`);
  const admin = setup.value.operator;
  const ops = {} as Record<N, Op>;
  ops[first] = { id: admin.id, name: first, token: setup.value.token, sessionId: await sha256(setup.value.token) };
  for (const name of rest) {
    const added = await ws.addOperator(admin, {
      name,
      email: `${name.toLowerCase()}@example.com`,
      passwordHash: "h",
      admin: false,
    });
    if (!added.ok) throw new Error(`adding ${name} refused: ${added.message}`);
    const token = await ws.createSession(added.value.id);
    ops[name] = { id: added.value.id, name, token, sessionId: await sha256(token) };
  }
  for (const name of away) await ws.setStatus(ops[name].id, "away");
  return { ws, admin, ops };
}

/** Another session of `op` (its id), as a second browser would have. */
async function anotherSession(ws: WorkspaceObject, op: Op): Promise<string> {
  return sha256(await ws.createSession(op.id));
}

/** Opens a panel of `op` (with session `sessionId`, its first by default) through the object's fetch. */
function openPanel(ws: WorkspaceObject, op: Op, sessionId = op.sessionId): Promise<TestSocket<PanelServerFrame>> {
  return workspacePanel(ws, op.id, sessionId);
}

/** Opens a panel and reads its first frames (the index, then the presence every panel hears). */
async function readyPanel(ws: WorkspaceObject, op: Op, sessionId = op.sessionId) {
  const panel = await openPanel(ws, op, sessionId);
  await panel.next("index");
  await panel.next("presence");
  return panel;
}

/** The workspace object's own modules. */
interface Modules {
  panels: PanelSockets;
  operators: Operators;
  index: ConversationIndex;
}

/** Runs `fn` (synchronous) inside workspace `ws` with its modules; the clock at `at` when given. */
function inObject<T>(
  ws: WorkspaceObject,
  fn: (m: Modules, state: DurableObjectState, w: WorkspaceContext) => T,
  at?: number,
): Promise<T> {
  return runInDurableObject(ws, (o, state) => {
    const spy = at === undefined ? null : vi.spyOn(Date, "now").mockReturnValue(at);
    try {
      return fn(o as unknown as Modules, state, { sql: state.storage.sql, ctx: state, env: env as Env });
    } finally {
      spy?.mockRestore();
    }
  });
}

/** The one server-side socket opened with session `sessionId`. */
function serverSocket(state: DurableObjectState, sessionId: string): WebSocket {
  const found = state.getWebSockets(`session:${sessionId}`);
  if (found.length !== 1) throw new Error(`expected one panel of session ${sessionId}, found ${found.length}`);
  return found[0]!;
}

/**
 * The frames `panel` received after the first `from`, once `n` answers (page
 * or error frames) are among them: a panel's frames are answered in order,
 * each by one frame. (The ping of `framesSince` is answered by the runtime
 * itself and could overtake them.) Gives up after 10 s with what it has.
 */
async function answers(panel: TestSocket<PanelServerFrame>, from: number, n: number): Promise<PanelServerFrame[]> {
  const answered = () => panel.frames.slice(from).filter((f) => f.type === "page" || f.type === "error").length;
  await panel.settled(() => answered() >= n);
  return framesSince(panel, from);
}

const presenceOf = (...entries: [Op, boolean, "online" | "away"][]) =>
  entries.map(([op, online, status]) => ({ id: op.id, name: op.name, online, status }));

const ref = (op: Op): OperatorRef => ({ id: op.id, name: op.name });

let clock = T0;
/** A summary with the next lastAt (so every list's order is the order of creation, newest first). */
function sum(id: string, more: Partial<ConversationSummary> = {}): ConversationSummary {
  clock += 1;
  return summaryOf(id, clock, T0, more);
}

/** Reports every summary to the workspace's index (version 1); returns them newest first. */
async function seed(ws: WorkspaceObject, summaries: ConversationSummary[]): Promise<ConversationSummary[]> {
  await inObject(ws, ({ index }) => {
    for (const s of summaries) index.report({ ...s, version: 1 }, [], []);
  });
  return [...summaries].sort((a, b) => b.lastAt - a.lastAt || (a.id < b.id ? 1 : -1));
}

const ids = (list: { id: string }[]) => list.map((c) => c.id);

describe("opening a panel", () => {
  it("takes a WebSocket upgrade with a live session of the operator it names, and nothing else", async () => {
    const { ws, ops } = await team(["Ada", "Bo"]);
    const { Ada: ada, Bo: bo } = ops;
    const endedToken = await ws.createSession(ada.id);
    await ws.endSession(endedToken);
    const expired = await anotherSession(ws, ada);
    await inObject(ws, (_m, _s, w) => {
      w.sql.exec("UPDATE sessions SET expires_at = ? WHERE token_hash = ?", Date.now() - 1, expired);
    });
    const attempt = async (request: Request) => {
      const res = await ws.fetch(request);
      return { status: res.status, body: res.status === 101 ? null : await res.json() };
    };
    const unauthorized = { status: 401, body: { error: { code: "unauthorized", message: "Not signed in" } } };
    const g = grantOf(ada.id, ada.sessionId);
    const seen = {
      notUpgrade: await attempt(new Request("http://workspace/panel", { headers: g })),
      noGrant: await attempt(upgrade({ "X-Microchat-Actor-Id": ada.id })),
      noActor: await attempt(upgrade({ ...g, "X-Microchat-Actor-Id": "" })),
      othersSession: await attempt(upgrade(grantOf(ada.id, bo.sessionId))),
      // Another kind of grant, its prefix as long as "session:".
      notASessionGrant: await attempt(upgrade({ ...g, "X-Microchat-Grant": `visitor:${ada.sessionId}` })),
      bareSessionId: await attempt(upgrade({ ...g, "X-Microchat-Grant": ada.sessionId })),
      endedSession: await attempt(upgrade(grantOf(ada.id, await sha256(endedToken)))),
      expiredSession: await attempt(upgrade(grantOf(ada.id, expired))),
      unknownSession: await attempt(upgrade(grantOf(ada.id, "no-such-session"))),
    };
    expect(seen).toEqual({
      notUpgrade: {
        status: 426,
        body: { error: { code: "upgrade_required", message: "Expected a WebSocket upgrade" } },
      },
      noGrant: unauthorized,
      noActor: unauthorized,
      othersSession: unauthorized,
      notASessionGrant: unauthorized,
      bareSessionId: unauthorized,
      endedSession: unauthorized,
      expiredSession: unauthorized,
      unknownSession: unauthorized,
    });
    expect(await inObject(ws, (_m, state) => state.getWebSockets("panel").length), "panels accepted").toBe(0);
    const opened = await attempt(upgrade(g));
    expect(opened, "Ada with her own live session").toEqual({ status: 101, body: null });
    expect(await inObject(ws, (_m, state) => state.getWebSockets("panel").length), "panels accepted").toBe(1);
  });

  it("is tagged panel, op:<operator> and session:<session>, and remembers its operator and session", async () => {
    const { ws, ops } = await team(["Ada"]);
    const panel = await readyPanel(ws, ops.Ada);
    const seen = await inObject(ws, (_m, state) =>
      state.getWebSockets("panel").map((s) => ({ tags: state.getTags(s), attachment: s.deserializeAttachment() })),
    );
    expect(seen).toEqual([
      {
        tags: ["panel", `op:${ops.Ada.id}`, `session:${ops.Ada.sessionId}`],
        attachment: { operatorId: ops.Ada.id, sessionId: ops.Ada.sessionId },
      },
    ]);
    panel.close();
  });

  it("first hears the index: its lists, the waiting count and presence counting itself; then every panel hears presence", async () => {
    const { ws, ops } = await team(["Ada", "Bo"]);
    const { Ada: ada, Bo: bo } = ops;
    const [b1, a1, i1, u2, u1] = (await seed(ws, [
      sum("u1"),
      sum("u2"),
      sum("i1", { status: "idle" }),
      sum("a1", { status: "assigned", operators: [ref(ada)] }),
      sum("b1", { status: "assigned", operators: [ref(bo)] }),
    ])) as [ConversationSummary, ConversationSummary, ConversationSummary, ConversationSummary, ConversationSummary];
    const adaPanel = await openPanel(ws, ada);
    await adaPanel.next("presence");
    const boPanel = await openPanel(ws, bo);
    await boPanel.next("presence");
    const alone = presenceOf([ada, true, "online"], [bo, false, "online"]);
    const both = presenceOf([ada, true, "online"], [bo, true, "online"]);
    const index = (mine: ConversationSummary[], operators: unknown) => ({
      type: "index",
      unassigned: [u2, u1],
      mine,
      all: [b1, a1, i1, u2, u1],
      allHasMore: false,
      unassignedHasMore: false,
      mineHasMore: false,
      waiting: 2,
      operators,
    });
    expect(await framesSince(adaPanel, 0)).toEqual([
      index([a1], alone),
      { type: "presence", operators: alone },
      { type: "presence", operators: both },
    ]);
    expect(await framesSince(boPanel, 0)).toEqual([index([b1], both), { type: "presence", operators: both }]);
    adaPanel.close();
    boPanel.close();
  });

  it("sends up to 200 rows of Unassigned and of Mine and up to 100 of All, saying which have more", async () => {
    const { ws, ops } = await team(["Ada", "Bo"]);
    const ada = ops.Ada;
    const made: ConversationSummary[] = [];
    let n = 0;
    const id = (prefix: string) => `${prefix}${String(n++).padStart(3, "0")}`;
    const add = async (unassigned: number, mine: number, others = 0) => {
      const batch = [
        ...Array.from({ length: unassigned }, () => sum(id("u"))),
        ...Array.from({ length: mine }, () => sum(id("m"), { status: "assigned", operators: [ref(ada)] })),
        ...Array.from({ length: others }, () => sum(id("o"), { status: "assigned", operators: [ref(ops.Bo)] })),
      ];
      made.push(...batch);
      await seed(ws, batch);
    };
    const firstFrame = async () => {
      const panel = await openPanel(ws, ada);
      const index = await panel.next("index");
      panel.close();
      return {
        unassigned: ids(index.unassigned),
        mine: ids(index.mine),
        all: ids(index.all),
        allHasMore: index.allHasMore,
        unassignedHasMore: index.unassignedHasMore,
        mineHasMore: index.mineHasMore,
        waiting: index.waiting,
      };
    };
    const newest = (n: number, pick: (c: ConversationSummary) => boolean = () => true) =>
      ids(
        made
          .filter(pick)
          .sort((a, b) => b.lastAt - a.lastAt)
          .slice(0, n),
      );
    const isU = (c: ConversationSummary) => c.status === "unassigned";
    const isMine = (c: ConversationSummary) => c.operators.some((o) => o.id === ada.id);

    await add(60, 40);
    expect(await firstFrame(), "100 conversations in all").toEqual({
      unassigned: newest(60, isU),
      mine: newest(40, isMine),
      all: newest(100),
      allHasMore: false,
      unassignedHasMore: false,
      mineHasMore: false,
      waiting: 60,
    });
    await add(0, 0, 1);
    expect(await firstFrame(), "101 conversations in all").toEqual({
      unassigned: newest(60, isU),
      mine: newest(40, isMine),
      all: newest(100),
      allHasMore: true,
      unassignedHasMore: false,
      mineHasMore: false,
      waiting: 60,
    });
    await add(140, 160);
    const full = await firstFrame();
    expect(full, "200 waiting, 200 of Ada's").toEqual({
      unassigned: newest(200, isU),
      mine: newest(200, isMine),
      all: newest(100),
      allHasMore: true,
      unassignedHasMore: false,
      mineHasMore: false,
      waiting: 200,
    });
    expect([full.unassigned.length, full.mine.length, full.all.length]).toEqual([200, 200, 100]);
    await add(1, 0);
    expect(await firstFrame(), "201 waiting, 200 of Ada's").toEqual({
      unassigned: newest(200, isU),
      mine: newest(200, isMine),
      all: newest(100),
      allHasMore: true,
      unassignedHasMore: true,
      mineHasMore: false,
      waiting: 201,
    });
    await add(0, 1);
    expect(await firstFrame(), "201 waiting, 201 of Ada's").toEqual({
      unassigned: newest(200, isU),
      mine: newest(200, isMine),
      all: newest(100),
      allHasMore: true,
      unassignedHasMore: true,
      mineHasMore: true,
      waiting: 201,
    });
  }, 120_000); // 503 reports: a budget for a loaded machine, not a wait
});

describe("frames from a panel", () => {
  it("`more` answers a page of the asked list for the panel's own operator: all, 100 rows and no tie id by default", async () => {
    const { ws, ops } = await team(["Ada", "Bo"]);
    const { Ada: ada, Bo: bo } = ops;
    const tie = clock + 1000;
    const made = await seed(ws, [
      ...Array.from({ length: 99 }, (_, i) => sum(`x${String(i).padStart(3, "0")}`)),
      sum("t1", { lastAt: tie, status: "assigned", operators: [ref(bo)] }),
      sum("t2", { lastAt: tie, status: "assigned", operators: [ref(ada)] }),
      sum("t3", { lastAt: tie }),
      sum("t4", { lastAt: tie, status: "assigned", operators: [ref(bo)] }),
      sum("top", { lastAt: tie + 1 }),
    ]);
    const by = new Map(made.map((c) => [c.id, c]));
    const list = (...wanted: string[]) => wanted.map((id) => by.get(id)!);
    const adaPanel = await readyPanel(ws, ada);
    const boPanel = await readyPanel(ws, bo);
    await adaPanel.next("presence");
    const [adaMark, boMark] = [adaPanel.frames.length, boPanel.frames.length];
    adaPanel.send({ type: "more", beforeLastAt: tie + 2 });
    adaPanel.send({ type: "more", beforeLastAt: tie });
    adaPanel.send({ type: "more", beforeLastAt: tie, beforeId: "t4", limit: 2 });
    adaPanel.send({ type: "more", view: "unassigned", beforeLastAt: tie, beforeId: "t4", limit: 2 });
    adaPanel.send({ type: "more", view: "mine", beforeLastAt: tie + 2 });
    boPanel.send({ type: "more", view: "mine", beforeLastAt: tie + 2, limit: 1 });
    boPanel.send({ type: "more", view: "mine", beforeLastAt: tie, beforeId: "t4" });
    expect(await answers(adaPanel, adaMark, 5)).toEqual([
      { type: "page", view: "all", conversations: made.slice(0, 100), hasMore: true },
      { type: "page", view: "all", conversations: made.slice(5, 104), hasMore: false },
      { type: "page", view: "all", conversations: list("t3", "t2"), hasMore: true },
      { type: "page", view: "unassigned", conversations: list("t3", "x098"), hasMore: true },
      { type: "page", view: "mine", conversations: list("t2"), hasMore: false },
    ]);
    expect(await answers(boPanel, boMark, 2)).toEqual([
      { type: "page", view: "mine", conversations: list("t4"), hasMore: true },
      { type: "page", view: "mine", conversations: list("t1"), hasMore: false },
    ]);
    adaPanel.close();
    boPanel.close();
  });

  it("a frame of 4096 characters is answered; one of 4097 is refused as too large", async () => {
    const { ws, ops } = await team(["Ada"]);
    const [only] = await seed(ws, [sum("only")]);
    const panel = await readyPanel(ws, ops.Ada);
    const mark = panel.frames.length;
    const padded = (length: number) => {
      const base = JSON.stringify({ type: "more", beforeLastAt: clock + 10, limit: 1, pad: "" });
      const text = JSON.stringify({
        type: "more",
        beforeLastAt: clock + 10,
        limit: 1,
        pad: "x".repeat(length - base.length),
      });
      expect(text.length).toBe(length);
      return text;
    };
    panel.sendRaw(padded(4096));
    panel.sendRaw(padded(4097));
    panel.sendRaw(padded(4095));
    expect(await answers(panel, mark, 3)).toEqual([
      { type: "page", view: "all", conversations: [only], hasMore: false },
      { type: "error", code: "too_large", message: "Frame too large" },
      { type: "page", view: "all", conversations: [only], hasMore: false },
    ]);
    panel.close();
  });

  it("each bad frame is answered with an error saying why, and the panel stays open", async () => {
    const { ws, ops } = await team(["Ada"]);
    const panel = await readyPanel(ws, ops.Ada);
    const mark = panel.frames.length;
    panel.sendRaw(new Uint8Array([123, 125]).buffer);
    panel.sendRaw("nope");
    panel.sendRaw("[]");
    panel.send({ type: "explode" });
    panel.send({ type: "more" });
    panel.send({ type: "more", view: "everything", beforeLastAt: 1 });
    panel.send({ type: "more", beforeLastAt: 1 });
    expect(await answers(panel, mark, 7)).toEqual([
      { type: "error", code: "bad_frame", message: "Binary frames are not supported" },
      { type: "error", code: "bad_json", message: "Frame is not valid JSON" },
      { type: "error", code: "bad_frame", message: "Frame needs a type" },
      { type: "error", code: "unknown_type", message: "Unknown frame type" },
      { type: "error", code: "bad_frame", message: "more.beforeLastAt must be a number" },
      { type: "error", code: "bad_frame", message: 'more.view must be "unassigned", "mine" or "all"' },
      { type: "page", view: "all", conversations: [], hasMore: false },
    ]);
    expect(panel.closed).toBe(false);
    panel.close();
  });

  it("every frame checks the panel's session: one that ended or lapsed, or an identity that does not match, closes it", async () => {
    const { ws, ops } = await team(["Ada", "Bo"]);
    const { Ada: ada, Bo: bo } = ops;
    const sessions = {
      deleted: await anotherSession(ws, ada),
      expired: await anotherSession(ws, ada),
      noSessionId: await anotherSession(ws, ada),
      otherOperator: await anotherSession(ws, ada),
      lostIdentity: await anotherSession(ws, ada),
      fine: await anotherSession(ws, ada),
    };
    const panels = Object.fromEntries(
      await Promise.all(Object.entries(sessions).map(async ([k, sid]) => [k, await readyPanel(ws, ada, sid)] as const)),
    );
    // What can become of a panel while it stays open: its session deleted without its close
    // reaching it, run out, or the attachment of a panel from before sessions were recorded.
    await inObject(ws, (_m, state, w) => {
      w.sql.exec("DELETE FROM sessions WHERE token_hash = ?", sessions.deleted);
      w.sql.exec("UPDATE sessions SET expires_at = ? WHERE token_hash = ?", Date.now() - 1, sessions.expired);
      serverSocket(state, sessions.noSessionId).serializeAttachment({ operatorId: ada.id });
      serverSocket(state, sessions.otherOperator).serializeAttachment({
        operatorId: bo.id,
        sessionId: sessions.otherOperator,
      });
      serverSocket(state, sessions.lostIdentity).serializeAttachment(null);
    });
    for (const p of Object.values(panels)) await p.roundTrip();
    const marks = Object.fromEntries(Object.entries(panels).map(([k, p]) => [k, p.frames.length]));
    for (const p of Object.values(panels)) p.send({ type: "more", beforeLastAt: 1 });
    const outcome: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(panels)) {
      if (k === "fine") {
        outcome[k] = await answers(p, marks[k]!, 1);
        continue;
      }
      await p.closedByServer(`the ${k} panel`);
      outcome[k] = { code: p.closeCode, reason: p.closeReason, after: p.frames.slice(marks[k]!) };
    }
    const signedOut = { code: 4001, reason: "Signed out", after: [] };
    expect(outcome).toEqual({
      deleted: signedOut,
      expired: signedOut,
      noSessionId: signedOut,
      otherOperator: signedOut,
      lostIdentity: { code: 1011, reason: "Lost identity", after: [] },
      fine: [{ type: "page", view: "all", conversations: [], hasMore: false }],
    });
    panels.fine!.close();
  });
});

describe("closing and presence", () => {
  it("a closing panel gets its code back (1000 for none) and the others hear presence without it", async () => {
    const { ws, ops } = await team(["Ada", "Bo"]);
    const { Ada: ada, Bo: bo } = ops;
    const boPanel = await readyPanel(ws, bo);
    const first = await readyPanel(ws, ada);
    const second = await readyPanel(ws, ada, await anotherSession(ws, ada));
    await boPanel.next("presence");
    await boPanel.next("presence");
    const mark = boPanel.frames.length;
    first.ws.close(4321, "bye");
    await first.whenClosed;
    expect(await framesSince(boPanel, mark), "Ada still has a panel open").toEqual([
      { type: "presence", operators: presenceOf([ada, true, "online"], [bo, true, "online"]) },
    ]);
    second.ws.close();
    await second.whenClosed;
    expect(await framesSince(boPanel, mark)).toEqual([
      { type: "presence", operators: presenceOf([ada, true, "online"], [bo, true, "online"]) },
      { type: "presence", operators: presenceOf([ada, false, "online"], [bo, true, "online"]) },
    ]);
    expect([
      { code: first.closeCode, reason: first.closeReason },
      { code: second.closeCode, reason: second.closeReason },
    ]).toEqual([
      { code: 4321, reason: "Closed" },
      { code: 1000, reason: "Closed" },
    ]);
    boPanel.close();
  });

  it("presence: every operator by name, online while a panel of theirs is open (but the one excepted), with their status", async () => {
    const { ws, ops } = await team(["Cy", "Ada", "Bo"], ["Cy"]);
    const { Ada: ada, Bo: bo, Cy: cy } = ops;
    const adaSecond = await anotherSession(ws, ada);
    const boLost = await anotherSession(ws, bo);
    const panels = [
      await readyPanel(ws, ada),
      await readyPanel(ws, ada, adaSecond),
      await readyPanel(ws, cy),
      await readyPanel(ws, bo, boLost),
    ];
    const seen = await inObject(ws, ({ panels: p }, state) => {
      serverSocket(state, boLost).serializeAttachment(null);
      const result = {
        all: p.presence(),
        exceptOneOfAda: p.presence(serverSocket(state, ada.sessionId)),
        exceptCy: p.presence(serverSocket(state, cy.sessionId)),
        afterEnd: null as unknown,
      };
      // Closed by the server, a panel no longer counts, though its close has not completed.
      p.end(cy.id, null, "signedOut");
      result.afterEnd = { sockets: state.getWebSockets("panel").length, presence: p.presence() };
      return result;
    });
    expect(seen).toEqual({
      all: presenceOf([ada, true, "online"], [bo, false, "online"], [cy, true, "away"]),
      exceptOneOfAda: presenceOf([ada, true, "online"], [bo, false, "online"], [cy, true, "away"]),
      exceptCy: presenceOf([ada, true, "online"], [bo, false, "online"], [cy, false, "away"]),
      afterEnd: {
        sockets: 4,
        presence: presenceOf([ada, true, "online"], [bo, false, "online"], [cy, false, "away"]),
      },
    });
    for (const p of panels) p.close();
  });

  it("someone is available when an operator who is not away has a panel open", async () => {
    const { ws, ops } = await team(["Ada", "Bo", "Cy"], ["Cy"]);
    const { Ada: ada, Cy: cy } = ops;
    const seen: Record<string, boolean> = { nobody: await ws.watchAvailability("a-conversation") };
    const cyPanel = await readyPanel(ws, cy);
    seen.awayOnly = await ws.watchAvailability("a-conversation");
    const adaPanel = await readyPanel(ws, ada);
    seen.ada = await ws.watchAvailability("a-conversation");
    await ws.setStatus(ada.id, "away");
    seen.adaAway = await ws.watchAvailability("a-conversation");
    await ws.setStatus(cy.id, "online");
    seen.cyBack = await ws.watchAvailability("a-conversation");
    cyPanel.close();
    await cyPanel.whenClosed;
    seen.cyClosed = await ws.watchAvailability("a-conversation");
    expect(seen).toEqual({ nobody: false, awayOnly: false, ada: true, adaAway: false, cyBack: true, cyClosed: false });
    adaPanel.close();
  });
});

describe("who hears what", () => {
  it("a broadcast reaches every panel but the one excepted; a notice only the panels of operators not away", async () => {
    const { ws, ops } = await team(["Ada", "Bo", "Cy"], ["Cy"]);
    const { Ada: ada, Bo: bo, Cy: cy } = ops;
    const lost = await anotherSession(ws, bo);
    const adaSecond = await anotherSession(ws, ada);
    const panels = {
      ada: await readyPanel(ws, ada),
      adaSecond: await readyPanel(ws, ada, adaSecond),
      bo: await readyPanel(ws, bo),
      cy: await readyPanel(ws, cy),
      lost: await readyPanel(ws, bo, lost),
    };
    // Each panel hears the later ones open; start counting after that.
    for (const p of Object.values(panels)) await p.roundTrip();
    const marks = Object.fromEntries(Object.entries(panels).map(([k, p]) => [k, p.frames.length]));
    const frame = (id: string): PanelServerFrame => ({ type: "remove", id });
    await inObject(ws, ({ panels: p }, state) => {
      serverSocket(state, lost).serializeAttachment(null);
      p.broadcastToAvailable(frame("to-available"));
      p.broadcast(frame("all-but-ada"), serverSocket(state, ada.sessionId));
      p.broadcast(frame("everyone"));
    });
    const seen: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(panels)) seen[k] = await framesSince(p, marks[k]!);
    expect(seen).toEqual({
      ada: [frame("to-available"), frame("everyone")],
      adaSecond: [frame("to-available"), frame("all-but-ada"), frame("everyone")],
      bo: [frame("to-available"), frame("all-but-ada"), frame("everyone")],
      cy: [frame("all-but-ada"), frame("everyone")],
      lost: [frame("all-but-ada"), frame("everyone")],
    });
    for (const p of Object.values(panels)) p.close();
  });
});

describe("ending panels", () => {
  it("ending a session closes that session's panels; ending an operator's closes all of theirs; others hear on", async () => {
    const { ws, ops } = await team(["Ada", "Bo"]);
    const { Ada: ada, Bo: bo } = ops;
    const laptop = ada.sessionId;
    const phone = await anotherSession(ws, ada);
    const panels = {
      laptop1: await readyPanel(ws, ada, laptop),
      laptop2: await readyPanel(ws, ada, laptop),
      phone: await readyPanel(ws, ada, phone),
      bo: await readyPanel(ws, bo),
    };
    const probe = async (id: string) => {
      await inObject(ws, ({ panels: p }) => p.broadcast({ type: "remove", id }));
    };
    const removes = (p: TestSocket<PanelServerFrame>) => p.frames.flatMap((f) => (f.type === "remove" ? [f.id] : []));
    const closing = (p: TestSocket<PanelServerFrame>) => ({
      code: p.closeCode,
      reason: p.closeReason,
      heard: removes(p),
    });

    await probe("before");
    await inObject(ws, ({ panels: p }) => p.end(ada.id, laptop, "signedOut"));
    await panels.laptop1.closedByServer("the laptop's first panel");
    await panels.laptop2.closedByServer("the laptop's second panel");
    await probe("after-laptop");
    expect(await framesSince(panels.phone, 0).then(() => removes(panels.phone))).toEqual(["before", "after-laptop"]);
    await inObject(ws, ({ panels: p }) => p.end(ada.id, null, "removed"));
    await panels.phone.closedByServer("the phone's panel");
    await probe("after-ada");
    expect(await framesSince(panels.bo, 0).then(() => removes(panels.bo))).toEqual([
      "before",
      "after-laptop",
      "after-ada",
    ]);
    await inObject(ws, ({ panels: p }) => p.end(bo.id, null, "expired"));
    await panels.bo.closedByServer("Bo's panel");
    expect({
      laptop1: closing(panels.laptop1),
      laptop2: closing(panels.laptop2),
      phone: closing(panels.phone),
      bo: closing(panels.bo),
    }).toEqual({
      laptop1: { code: 4001, reason: "Signed out", heard: ["before"] },
      laptop2: { code: 4001, reason: "Signed out", heard: ["before"] },
      phone: { code: 4003, reason: "Operator removed", heard: ["before", "after-laptop"] },
      bo: { code: 4001, reason: "Session expired", heard: ["before", "after-laptop", "after-ada"] },
    });
  });

  it("removing an operator closes their panels (4003) and the others hear a roster without them", async () => {
    const { ws, admin, ops } = await team(["Ada", "Bo"]);
    const { Ada: ada, Bo: bo } = ops;
    const adaPanel = await readyPanel(ws, ada);
    const boPanel = await readyPanel(ws, bo);
    await adaPanel.next("presence");
    const mark = adaPanel.frames.length;
    expect(await ws.removeOperator(admin, bo.id)).toEqual({ ok: true, value: null });
    await boPanel.closedByServer("Bo's panel");
    expect({ code: boPanel.closeCode, reason: boPanel.closeReason }).toEqual({
      code: 4003,
      reason: "Operator removed",
    });
    const heard = await framesSince(adaPanel, mark);
    expect(heard.at(-1), `Ada's panel heard ${JSON.stringify(heard)}`).toEqual({
      type: "presence",
      operators: presenceOf([ada, true, "online"]),
    });
    expect(heard.every((f) => f.type === "presence")).toBe(true);
    adaPanel.close();
  });

  it("changes going out close the panels whose session lapsed, looking at most once a minute", async () => {
    const { ws, ops } = await team(["Ada", "Bo"]);
    const { Ada: ada, Bo: bo } = ops;
    const noSessionId = await anotherSession(ws, ada);
    const lost = await anotherSession(ws, bo);
    const panels = {
      ada: await readyPanel(ws, ada),
      bo: await readyPanel(ws, bo),
      noSessionId: await readyPanel(ws, ada, noSessionId),
      lost: await readyPanel(ws, bo, lost),
    };
    const t1 = Date.now();
    // A PanelSockets of the same object that has not looked yet (as after a wake).
    const lapsed: { panels?: PanelSockets } = {};
    await inObject(ws, ({ operators }, state, w) => {
      lapsed.panels = new PanelSockets(w, operators);
      serverSocket(state, noSessionId).serializeAttachment({ operatorId: ada.id });
      serverSocket(state, lost).serializeAttachment(null);
    });
    const send = (id: string, at: number) => inObject(ws, () => lapsed.panels!.broadcast({ type: "remove", id }), at);
    const expire = (sessionId: string, at: number) =>
      inObject(ws, (_m, _s, w) => {
        w.sql.exec("UPDATE sessions SET expires_at = ? WHERE token_hash = ?", at, sessionId);
      });

    await send("first", t1);
    await panels.noSessionId.closedByServer("the panel with no session id");
    await expire(ada.sessionId, t1 + 1);
    await send("59999", t1 + 59_999);
    await send("60000", t1 + 60_000);
    await panels.ada.closedByServer("Ada's lapsed panel");
    await expire(bo.sessionId, t1 + 60_001);
    await send("119999", t1 + 119_999);
    await send("120000", t1 + 120_000);
    await panels.bo.closedByServer("Bo's lapsed panel");
    await send("last", t1 + 180_000);
    await panels.lost.roundTrip();

    const seen = Object.fromEntries(
      Object.entries(panels).map(([k, p]) => [
        k,
        {
          closed: p.closed ? `${p.closeCode} ${p.closeReason}` : "open",
          heard: p.frames.flatMap((f) => (f.type === "remove" ? [f.id] : [])),
        },
      ]),
    );
    expect(seen).toEqual({
      noSessionId: { closed: "4001 Session expired", heard: [] },
      ada: { closed: "4001 Session expired", heard: ["first", "59999"] },
      bo: { closed: "4001 Session expired", heard: ["first", "59999", "60000", "119999"] },
      lost: { closed: "open", heard: ["first", "59999", "60000", "119999", "120000", "last"] },
    });
    panels.lost.close();
  });
});
