/**
 * The Conversation Durable Object: one instance per conversation, and the
 * only object of this folder the runtime sees. It owns the conversation's
 * message log (SQLite, gap-free sequence numbers), its assignment state and
 * every socket attached to it: the visitor's widget and any operator panels
 * that opened it.
 *
 * This class only turns runtime callbacks and RPC calls into calls of the
 * plain modules beside it, each handed the one `ConversationContext` (the
 * object's SQLite, ctx, env and in-memory state; context.ts says what of it
 * survives hibernation). RPC bodies run in `attempt`: a refusal comes back
 * to the Worker as a `Result` (`{ ok: false, code, message }`), a bug throws.
 *
 * Concurrency: each RPC body below does its reading and writing without an
 * await in between (or in one `transactionSync`), so no other event can
 * interleave with it; the awaits come before (asking the workspace for
 * settings) or after (telling it, sending mail). Deletion is the exception:
 * it awaits R2 and storage, and leaves a tombstone that refuses everything.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { attempt, refuse, type Result } from "../errors";
import type { ClientInfo } from "../lib/client";
import { migrate } from "../schema/migrate";
import type {
  Channel,
  ConversationState,
  EmailMeta,
  FileRef,
  Message,
  OperatorRef,
  PageView,
  VisitorInfo,
} from "../protocol";
import { LIMITS } from "../protocol";
import type { GrantEnd } from "../lib/grants";
import * as access from "./access";
import * as assignment from "./assignment";
import { connect, disconnect, receive, tellAvailability } from "./connection";
import { ConversationContext } from "./context";
import * as email from "./email-channel";
import { flushIndex } from "./index-report";
import * as lifecycle from "./lifecycle";
import * as log from "./log";
import { conversationMigrations } from "./schema";
import type { SocketIdentity } from "./sockets";
import { conversationState } from "./state";
import { rate, surveyOpen } from "./survey";
import * as visitor from "./visitor";
import { logWarn } from "../lib/log";

type Page = { messages: Message[]; hasMore: boolean };

export class Conversation extends DurableObject<Env> {
  /** What every module works on: storage, ctx, env and all in-memory state (see context.ts). */
  private readonly c: ConversationContext;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.c = new ConversationContext(ctx, () => this.env);
    // Migrations are synchronous SQL; running them under blockConcurrencyWhile
    // guarantees no event is delivered before the schema is current.
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql, conversationMigrations);
    });
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  // Runtime callbacks ---------------------------------------------------------

  /** A WebSocket upgrade forwarded by the Worker (the only HTTP this object answers). */
  override async fetch(request: Request): Promise<Response> {
    return connect(this.c, request);
  }

  /** A frame from a visitor or operator socket (after a wake-up too: the socket's attachment says who). */
  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    await receive(this.c, ws, data);
  }

  /** A socket closed; the visitor may have gone offline. */
  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    disconnect(this.c, ws, code);
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    logWarn("socket.error", { conversationId: this.c.meta.id }, error);
  }

  /** Clears used socket tickets and spent revocations, and reports what an earlier instance did not get to report. */
  override async alarm(): Promise<void> {
    this.c.memory.alarmAt = null;
    this.c.sql.exec("DELETE FROM used_tickets WHERE expires_at < ?", Date.now());
    await access.pruneRevoked(this.c);
    await flushIndex(this.c);
  }

  // RPC from the Worker ------------------------------------------------------

  /** Name and email the site passed with `Microchat.setUser` (see visitor.ts). */
  async setSiteIdentity(
    conversationId: string,
    workspace: string,
    visitorId: string,
    input: { name: string | null; email: string | null; verified: boolean },
  ): Promise<Result<null>> {
    return attempt(() => {
      lifecycle.init(this.c, conversationId, workspace, visitorId);
      lifecycle.requireVisitor(this.c, visitorId);
      visitor.setSiteIdentity(this.c, input);
      return null;
    });
  }

  /** JOIN: assigns the operator. Several operators may join the same conversation. */
  async join(conversationId: string, workspace: string, operator: OperatorRef): Promise<Result<ConversationState>> {
    return attempt(() => {
      lifecycle.requireConversation(this.c, conversationId, workspace);
      return assignment.join(this.c, operator);
    });
  }

  /** Leave Conversation; `publicUrl` is where links in a survey email point. */
  async leave(
    conversationId: string,
    workspace: string,
    operatorId: string,
    publicUrl: string,
  ): Promise<Result<ConversationState>> {
    return attempt(() => {
      lifecycle.requireConversation(this.c, conversationId, workspace);
      return assignment.leave(this.c, operatorId, publicUrl);
    });
  }

  /** The conversation's state, for the panel and the REST API. */
  async getState(conversationId: string, workspace: string): Promise<Result<ConversationState>> {
    return attempt(() => {
      lifecycle.requireConversation(this.c, conversationId, workspace);
      return conversationState(this.c);
    });
  }

  /** A page of history before `beforeSeq` (the newest page when null). */
  async getMessages(
    conversationId: string,
    workspace: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<Result<Page>> {
    return attempt(() => {
      lifecycle.requireConversation(this.c, conversationId, workspace);
      return this.page(beforeSeq, limit);
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
  ): Promise<Result<assignment.Stored>> {
    return attempt(async () => {
      if (channel === "email") await email.prepareEmail(this.c);
      if (who.role === "visitor") lifecycle.init(this.c, conversationId, workspace, who.id);
      lifecycle.requireConversation(this.c, conversationId, workspace);
      if (who.role === "visitor") lifecycle.requireVisitor(this.c, who.id);
      const result = email.post(this.c, who, clientId, "file", file.name, channel, file);
      email.publish(this.c, result);
      return result;
    });
  }

  /** The attachment `fileId` of this conversation, for serving. */
  async getFile(conversationId: string, workspace: string, fileId: string): Promise<Result<FileRef>> {
    return attempt(() => {
      lifecycle.requireConversation(this.c, conversationId, workspace);
      return log.attachment(this.c, fileId) ?? refuse("not_found", "No such file");
    });
  }

  /**
   * An operator's message sent over HTTP (the REST API), with the same rules
   * as the socket: joined operators only, stored once per clientId, answered
   * only once stored, email replies delivered afterwards.
   */
  async sendAsOperator(
    conversationId: string,
    workspace: string,
    who: SocketIdentity,
    clientId: string,
    text: string,
    channel: Channel,
  ): Promise<Result<assignment.Stored>> {
    return attempt(async () => {
      lifecycle.requireConversation(this.c, conversationId, workspace);
      if (channel === "email") await email.prepareEmail(this.c);
      const result = email.post(this.c, who, clientId, "text", text, channel);
      email.publish(this.c, result);
      return result;
    });
  }

  /** Stores an inbound mail from the conversation's visitor, `sender` (from the Worker's email handler). */
  async receiveEmail(
    conversationId: string,
    workspace: string,
    sender: { id: string; name: string | null; email: string },
    clientId: string,
    text: string,
    meta: EmailMeta,
    token: string,
  ): Promise<Result<{ seq: number; fresh: boolean }>> {
    return attempt(() => {
      lifecycle.init(this.c, conversationId, workspace, sender.id);
      lifecycle.requireVisitor(this.c, sender.id, "Not this visitor's conversation");
      const { message, fresh } = email.receiveEmail(this.c, sender, clientId, text, meta, token);
      return { seq: message.seq, fresh };
    });
  }

  /** The visitor's own history: empty before their first contact; anyone else's is refused. */
  async getVisitorMessages(
    conversationId: string,
    workspace: string,
    visitorId: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<Result<Page>> {
    return attempt(() => {
      if (!lifecycle.exists(this.c)) return { messages: [], hasMore: false };
      lifecycle.requireConversation(this.c, conversationId, workspace);
      lifecycle.requireVisitor(this.c, visitorId);
      return this.page(beforeSeq, limit);
    });
  }

  /** Page views from the widget loader (beacons, batched); returns how many were recorded. */
  async recordPageViews(
    conversationId: string,
    workspace: string,
    visitorId: string,
    views: (PageView & { id: string })[],
    referrer: string | null,
    info: ClientInfo,
  ): Promise<Result<number>> {
    return attempt(() => {
      lifecycle.init(this.c, conversationId, workspace, visitorId);
      lifecycle.requireVisitor(this.c, visitorId);
      visitor.recordPageViews(this.c, views, referrer, info);
      return views.length;
    });
  }

  /** Everything known about the visitor, for the panel. */
  async visitorInfo(conversationId: string, workspace: string): Promise<Result<VisitorInfo>> {
    return attempt(() => {
      lifecycle.requireConversation(this.c, conversationId, workspace);
      return visitor.visitorInfo(this.c);
    });
  }

  /** Operators correct the visitor's name or email (null clears it). */
  async updateVisitor(
    conversationId: string,
    workspace: string,
    input: { name?: string | null; email?: string | null },
  ): Promise<Result<VisitorInfo>> {
    return attempt(() => {
      lifecycle.requireConversation(this.c, conversationId, workspace);
      visitor.correctVisitor(this.c, input);
      return visitor.visitorInfo(this.c);
    });
  }

  /** Whether the survey of an emailed link still waits for its answer (the link is single-use). */
  async surveyOpen(surveyId: string): Promise<boolean> {
    return surveyOpen(this.c, surveyId);
  }

  /** A rating from the link in the survey email (the Worker's /rate page). */
  async rateFromEmail(surveyId: string, rating: number, comment: string | null): Promise<Result<null>> {
    return attempt(async () => {
      await rate(this.c, surveyId, rating, comment ?? undefined);
      return null;
    });
  }

  /**
   * Whether a visitor token may be used here (see access.ts): refused when
   * the conversation was deleted (the widget then starts a fresh one), is
   * another visitor's, or the token's family was revoked.
   */
  async admitVisitor(
    conversationId: string,
    workspace: string,
    visitorId: string,
    family: string,
  ): Promise<Result<null>> {
    return attempt(() => {
      access.admitVisitor(this.c, conversationId, workspace, visitorId, family);
      return null;
    });
  }

  /** Revokes a visitor token family (logout, or a login that replaced the token): refused from now on, its sockets closed. */
  async revokeVisitor(conversationId: string, workspace: string, family: string): Promise<Result<null>> {
    return attempt(() => {
      if (this.c.meta.id !== null && (this.c.meta.id !== conversationId || this.c.meta.workspace !== workspace)) {
        refuse("not_found", "Unknown conversation");
      }
      access.revokeFamily(this.c, family);
      return null;
    });
  }

  /** The workspace ended an operator's session (or removed them): their sockets here close. */
  async endOperatorSockets(operatorId: string, sessionId: string | null, why: GrantEnd): Promise<void> {
    access.endOperatorSockets(this.c, operatorId, sessionId, why);
  }

  /** Whether anyone can answer changed: told to the visitor's widgets; false when the visitor has none open. */
  async availabilityChanged(available: boolean): Promise<boolean> {
    return tellAvailability(this.c, available);
  }

  /** Deletes the conversation, leaving a tombstone; returns how many files were removed. */
  async erase(conversationId: string, workspace: string): Promise<Result<{ files: number }>> {
    return attempt(async () => ({ files: await lifecycle.erase(this.c, conversationId, workspace) }));
  }

  /** A page of history before `beforeSeq` (or the newest), `limit` clamped to the protocol's bounds. */
  private page(beforeSeq: number | null, limit: number): Page {
    return log.page(this.c, beforeSeq ?? log.lastSeq(this.c) + 1, Math.min(Math.max(limit, 1), LIMITS.historyPageMax));
  }
}
