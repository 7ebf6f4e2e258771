/**
 * Panel sockets: each open operator panel holds one, and receives the
 * conversation index live (its first lists, then every change), operators'
 * presence, and notifications of visitors waiting.
 *
 * Sockets are accepted through the Hibernation API with the tags `panel`,
 * `op:<operator id>` and `session:<session id>`, and carry their operator
 * and session in their attachment, so the object can sleep while panels
 * stay connected. After a wake, sockets are found again with
 * `getWebSockets(tag)`; nothing here is kept in memory.
 *
 * A panel is only as good as the session it was opened with: every frame
 * checks that the session still holds (the sessions live in this object, so
 * that costs one local read), and ending a session or removing an operator
 * closes their panels at once (`end`).
 */
import { GRANT_ENDED, sessionTag, type GrantEnd } from "../lib/grants";
import { echoClose, trySend } from "../lib/sockets";
import { grantFrom, IDENTITY_HEADERS, isWebSocketUpgrade } from "../lib/upgrade";
import { Refused, refusalResponse } from "../errors";
import { validatePanelFrame } from "../validate/frames";
import type {
  ConversationSummary,
  OperatorPresence,
  PagedView,
  PanelServerFrame,
  ErrorCode as FrameErrorCode,
} from "../protocol";
import type { WorkspaceContext } from "./context";
import type { Operators } from "./operators";

/** Rows of "all" sent with the first index frame, and a page's size when a panel does not ask for one. */
const ALL_FIRST_PAGE = 100;
/** Rows of Unassigned and Mine sent with the first index frame. */
const FIRST_PAGE = 200;
/** How often, at most, open panels' sessions are looked at as changes go out. */
const LAPSED_CHECK_MS = 60_000;
/** Largest frame a panel may send. */
const MAX_FRAME_CHARS = 4096;

/** What a panel socket remembers across hibernation (its attachment). */
interface PanelIdentity {
  operatorId: string;
  /** The session it was opened with (absent on panels opened before sessions were recorded: they are refused). */
  sessionId?: string;
}

/** The pages of the index a panel socket reads: implemented by the conversation index. */
export interface IndexLists {
  page(
    view: PagedView,
    operatorId: string,
    before: number | null,
    limit: number,
    beforeId?: string | null,
  ): { conversations: ConversationSummary[]; hasMore: boolean };
  waitingCount(): number;
}

function identity(ws: WebSocket): PanelIdentity | null {
  return ws.deserializeAttachment() as PanelIdentity | null;
}

/** Closes a panel whose session ended, saying why (the panel then asks the person to sign in). */
function closeAs(ws: WebSocket, why: GrantEnd): void {
  try {
    ws.close(GRANT_ENDED[why].code, GRANT_ENDED[why].reason);
  } catch {
    // Already closed.
  }
}

/** The panels' sockets: connecting, frames in, broadcasts out, presence. */
export class PanelSockets {
  /** When panels' sessions were last looked at by `closeLapsed` (in memory: a fresh instance looks at once). */
  private lapsedCheckedAt = 0;

  constructor(
    private readonly w: WorkspaceContext,
    private readonly operators: Operators,
  ) {}

  /** Accepts a panel socket forwarded by the Worker, and sends it the first lists. */
  connect(request: Request, lists: IndexLists): Response {
    if (!isWebSocketUpgrade(request)) {
      return refusalResponse(new Refused("upgrade_required", "Expected a WebSocket upgrade"));
    }
    const operatorId = request.headers.get(IDENTITY_HEADERS.actorId) ?? "";
    const grant = grantFrom(request);
    const sessionId = grant?.tag.startsWith("session:") ? grant.tag.slice("session:".length) : "";
    // The session is checked again here, where sessions live: one that ended
    // since the Worker looked opens nothing.
    if (this.operators.session(sessionId)?.operator.id !== operatorId) {
      return refusalResponse(new Refused("unauthorized", "Not signed in"));
    }

    const pair = new WebSocketPair();
    const server = pair[1];
    this.w.ctx.acceptWebSocket(server, ["panel", `op:${operatorId}`, sessionTag(sessionId)]);
    server.serializeAttachment({ operatorId, sessionId } satisfies PanelIdentity);

    // Built after accepting, so the presence in it counts this panel as online.
    const unassigned = lists.page("unassigned", operatorId, null, FIRST_PAGE);
    const mine = lists.page("mine", operatorId, null, FIRST_PAGE);
    const all = lists.page("all", operatorId, null, ALL_FIRST_PAGE);
    this.send(server, {
      type: "index",
      unassigned: unassigned.conversations,
      mine: mine.conversations,
      all: all.conversations,
      allHasMore: all.hasMore,
      unassignedHasMore: unassigned.hasMore,
      mineHasMore: mine.hasMore,
      waiting: lists.waitingCount(),
      operators: this.presence(),
    });
    this.broadcastPresence();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** A frame from a panel: checked for size and shape first, then answered. */
  message(ws: WebSocket, data: string | ArrayBuffer, lists: IndexLists): void {
    const who = identity(ws);
    if (!who) return ws.close(1011, "Lost identity");
    if (this.operators.session(who.sessionId ?? "")?.operator.id !== who.operatorId) {
      // The session ended (signed out, expired, or the operator was removed) and its close was missed.
      return closeAs(ws, "signedOut");
    }
    const fail = (code: FrameErrorCode, message: string) => this.send(ws, { type: "error", code, message });
    if (typeof data !== "string") return fail("bad_frame", "Binary frames are not supported");
    if (data.length > MAX_FRAME_CHARS) return fail("too_large", "Frame too large");
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return fail("bad_json", "Frame is not valid JSON");
    }
    const parsed = validatePanelFrame(raw);
    if (!parsed.ok) return fail(parsed.code, parsed.message);
    const { view = "all", beforeLastAt, beforeId = null, limit = ALL_FIRST_PAGE } = parsed.frame;
    const page = lists.page(view, who.operatorId, beforeLastAt, limit, beforeId);
    this.send(ws, { type: "page", view, conversations: page.conversations, hasMore: page.hasMore });
  }

  /** A panel closed: completes the close handshake and tells the others. */
  close(ws: WebSocket, code: number): void {
    echoClose(ws, code);
    this.broadcastPresence(ws);
  }

  /**
   * Closes the panels of one session, or of every session of an operator
   * (`sessionId` null): they stop receiving anything at once.
   */
  end(operatorId: string, sessionId: string | null, why: GrantEnd): void {
    for (const ws of this.w.ctx.getWebSockets(sessionId ? sessionTag(sessionId) : `op:${operatorId}`)) closeAs(ws, why);
  }

  /** Every operator, with whether they have a panel open (`except` counts as closed). */
  presence(except?: WebSocket): OperatorPresence[] {
    const online = new Set<string>();
    for (const ws of this.w.ctx.getWebSockets("panel")) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      const who = identity(ws);
      if (who) online.add(who.operatorId);
    }
    return this.operators.roster().map((r) => ({ id: r.id, name: r.name, online: online.has(r.id), status: r.status }));
  }

  /** Whether anyone can answer a visitor now: an operator with the panel open and not away. */
  available(): boolean {
    return this.presence().some((p) => p.online && p.status === "online");
  }

  broadcastPresence(except?: WebSocket): void {
    this.broadcast({ type: "presence", operators: this.presence(except) }, except);
  }

  /** Sends a frame to every open panel (but `except`). */
  broadcast(frame: PanelServerFrame, except?: WebSocket): void {
    this.closeLapsed();
    const text = JSON.stringify(frame);
    for (const ws of this.w.ctx.getWebSockets("panel")) if (ws !== except) trySend(ws, text);
  }

  /**
   * Closes the panels whose session ran out by time (expiry, or whatever
   * else ends a session without a sign-out), at most once a minute, as
   * changes go out: a panel that only listens sends no frame to be checked on.
   */
  private closeLapsed(): void {
    const now = Date.now();
    if (now - this.lapsedCheckedAt < LAPSED_CHECK_MS) return;
    this.lapsedCheckedAt = now;
    for (const ws of this.w.ctx.getWebSockets("panel")) {
      const who = identity(ws);
      if (who && this.operators.session(who.sessionId ?? "")?.operator.id !== who.operatorId) closeAs(ws, "expired");
    }
  }

  /** Sends a frame to the panels of operators who are not away. */
  broadcastToAvailable(frame: PanelServerFrame): void {
    const away = new Set(
      this.operators
        .roster()
        .filter((r) => r.status === "away")
        .map((r) => r.id),
    );
    const text = JSON.stringify(frame);
    for (const ws of this.w.ctx.getWebSockets("panel")) {
      const who = identity(ws);
      if (who && !away.has(who.operatorId)) trySend(ws, text);
    }
  }

  private send(ws: WebSocket, frame: PanelServerFrame): void {
    ws.send(JSON.stringify(frame));
  }
}
