/**
 * Workspace Durable Object: one instance per workspace, holding what spans
 * conversations. This class is the only part the runtime sees: it turns
 * RPC calls, panel sockets and the alarm into calls on the modules beside
 * it, and decides nothing itself beyond which calls are admin-only.
 *
 *   operators           operators, sessions, API tokens, the admin check
 *   conversation-index  the panel's lists, kept by conversations' reports
 *   report-window       pacing of those reports by how many conversations are busy
 *   panel-sockets       open panels: first lists, live changes, presence
 *   operator-sockets    every socket an operator holds, ended when their session or access ends
 *   reports             ratings and Report > Operator
 *   webhooks            endpoints, delivery queue, signatures, retries
 *   email-threads       which conversation an inbound mail belongs to
 *   verified-users      a logged-in customer's conversation across devices
 *   settings            typed workspace settings
 *   retention           deletion of inactive conversations
 *   scheduler           the one alarm: the earliest deadline of all jobs
 *   schema              numbered migrations
 *   context             the { sql, ctx, env } every module works over
 *
 * Every module is rebuilt with the object, so when it wakes from
 * hibernation the in-memory caches (waiting count, report window, webhook
 * subscriptions) start empty and are read again from storage; sockets are
 * found again by tag.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { attempt, type Result } from "../errors";
import type {
  ApiTokenInfo,
  ConversationSummary,
  Message,
  Operator,
  OperatorReportResponse,
  PresenceStatus,
  WebhookDeliveryInfo,
  WebhookEvent,
  WebhookInfo,
  WorkspaceSettings,
} from "../protocol";
import { migrate } from "../schema/migrate";
import type { WorkspaceContext } from "./context";
import { ConversationIndex, type IndexReportAnswer, type IndexView } from "./conversation-index";
import { EmailThreads, type InboundEmail, type RoutedEmail } from "./email-threads";
import type { GrantEnd } from "../lib/grants";
import { OperatorSockets } from "./operator-sockets";
import { Operators, type NewOperator, type OperatorSession } from "./operators";
import { PanelSockets } from "./panel-sockets";
import { Reports, type OperatorStat, type RatingInput } from "./reports";
import { Retention } from "./retention";
import { Scheduler } from "./scheduler";
import { workspaceMigrations } from "./schema";
import { Settings } from "./settings";
import { VerifiedUsers, type VisitorBinding } from "./verified-users";
import { Webhooks } from "./webhooks";

export class Workspace extends DurableObject<Env> {
  private readonly operators: Operators;
  private readonly panels: PanelSockets;
  private readonly operatorSockets: OperatorSockets;
  private readonly index: ConversationIndex;
  private readonly reports: Reports;
  private readonly webhooks: Webhooks;
  private readonly threads: EmailThreads;
  private readonly verified: VerifiedUsers;
  private readonly settings: Settings;
  private readonly retention: Retention;
  private readonly scheduler: Scheduler;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const w: WorkspaceContext = { sql: ctx.storage.sql, ctx, env };
    // No request sees a half-migrated schema: the runtime holds them back until this is done.
    void ctx.blockConcurrencyWhile(async () => migrate(w.sql, workspaceMigrations));
    // The runtime answers a panel's ping itself, so keeping a socket alive never wakes the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));

    this.scheduler = new Scheduler(ctx.storage);
    this.settings = new Settings(w);
    this.operators = new Operators(w);
    this.panels = new PanelSockets(w, this.operators);
    this.operatorSockets = new OperatorSockets(w, this.panels);
    // Alarm jobs run in the order they register: webhook deliveries first, then retention.
    this.webhooks = new Webhooks(w, this.scheduler);
    this.reports = new Reports(w, this.operators, this.webhooks);
    this.threads = new EmailThreads(w);
    this.verified = new VerifiedUsers(w);
    this.index = new ConversationIndex(w, {
      panels: this.panels,
      webhooks: this.webhooks,
      reports: this.reports,
      threads: this.threads,
      verified: this.verified,
    });
    this.retention = new Retention(w, this.settings, this.index, this.scheduler);
  }

  /** Runs an admin-only operation: the one admin check first, then `fn`; a refusal comes back as a Result. */
  private asAdmin<T>(actor: Operator, what: string, fn: () => T | Promise<T>): Promise<Result<T>> {
    return attempt(() => {
      this.operators.requireAdmin(actor, what);
      return fn();
    });
  }

  // Runtime callbacks ---------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    return this.panels.connect(request, this.index);
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    this.panels.message(ws, data, this.index);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.panels.close(ws, code);
  }

  override async alarm(): Promise<void> {
    await this.scheduler.fire();
  }

  // Setup and sessions --------------------------------------------------------

  async needsSetup(): Promise<boolean> {
    return this.operators.needsSetup();
  }

  /** Creates the first admin (only while there is no operator) and signs them in. */
  async setup(input: Omit<NewOperator, "admin">): Promise<Result<{ operator: Operator; token: string }>> {
    return attempt(() => this.operators.setup(input));
  }

  /** The stored password hash for an email, for the Worker to verify. */
  async credentials(email: string): Promise<{ operatorId: string; passwordHash: string } | null> {
    return this.operators.credentials(email);
  }

  async createSession(operatorId: string): Promise<string> {
    return this.operators.createSession(operatorId);
  }

  /** Signs a session out: it stops working, and every socket opened with it closes. */
  async endSession(token: string): Promise<void> {
    const ended = await this.operators.endSession(token);
    if (ended) this.endOperatorSockets(ended.operatorId, "signedOut", ended.sessionId);
  }

  async authenticate(token: string): Promise<Operator | null> {
    return this.operators.authenticate(token);
  }

  /**
   * Admits a socket opened with a session token: the session (its operator,
   * id and expiry), or null when it is not valid. With `conversationId` the
   * socket is on that conversation, recorded so ending the session closes it.
   */
  async admitSocket(token: string, conversationId: string | null): Promise<OperatorSession | null> {
    const session = await this.operators.sessionOf(token);
    if (session && conversationId) this.operatorSockets.track(session.id, session.operator.id, conversationId);
    return session;
  }

  /** Whether the session with this id (a token's hash) still holds: asked by conversations about their sockets. */
  async sessionActive(sessionId: string, operatorId: string): Promise<boolean> {
    return this.operators.session(sessionId)?.operator.id === operatorId;
  }

  /**
   * THE way a right of an operator ends on open sockets: their panels close
   * and every conversation they opened a socket on closes it (4003 "Operator
   * removed" or 4001 "Signed out"). `sessionId` null ends all of the
   * operator's sessions' sockets ("sign out everywhere"). Call it after the
   * session rows are gone, so nothing can reopen.
   */
  private endOperatorSockets(operatorId: string, why: GrantEnd, sessionId: string | null = null): void {
    this.operatorSockets.end(operatorId, why, sessionId);
  }

  // Operators and presence ----------------------------------------------------

  async listOperators(): Promise<Operator[]> {
    return this.operators.list();
  }

  async addOperator(actor: Operator, input: NewOperator): Promise<Result<Operator>> {
    return this.asAdmin(actor, "manage operators", () => {
      const operator = this.operators.insert(input);
      this.panels.broadcastPresence();
      return operator;
    });
  }

  async removeOperator(actor: Operator, operatorId: string): Promise<Result<null>> {
    return this.asAdmin(actor, "manage operators", () => {
      this.operators.remove(actor, operatorId);
      this.endOperatorSockets(operatorId, "removed");
      this.panels.broadcastPresence();
      return null;
    });
  }

  /** An operator sets themselves online or away. */
  async setStatus(operatorId: string, status: PresenceStatus): Promise<void> {
    this.operators.setStatus(operatorId, status);
    this.panels.broadcastPresence();
  }

  /** Whether anyone can answer a visitor now: an operator with the panel open and not away. */
  async availability(): Promise<boolean> {
    return this.panels.available();
  }

  // API tokens ----------------------------------------------------------------

  async createToken(actor: Operator, name: string): Promise<Result<{ token: string; info: ApiTokenInfo }>> {
    return this.asAdmin(actor, "manage API tokens", () => this.operators.createToken(actor, name));
  }

  async listTokens(actor: Operator): Promise<Result<ApiTokenInfo[]>> {
    return this.asAdmin(actor, "manage API tokens", () => this.operators.listTokens());
  }

  async revokeToken(actor: Operator, id: string): Promise<Result<null>> {
    return this.asAdmin(actor, "manage API tokens", () => {
      this.operators.revokeToken(id);
      return null;
    });
  }

  /** The operator an API token acts as, or null. */
  async authenticateToken(token: string): Promise<Operator | null> {
    return this.operators.authenticateToken(token);
  }

  // Conversation index --------------------------------------------------------

  /** A conversation's report of its state (called by Conversation objects). */
  async upsertConversation(
    summary: ConversationSummary & { version: number },
    stats: OperatorStat[] = [],
    messages: Message[] = [],
  ): Promise<IndexReportAnswer> {
    return this.index.report(summary, stats, messages);
  }

  /** Removes a deleted conversation from the index, email threading and verified users. */
  async forgetConversation(id: string): Promise<void> {
    this.index.forget(id);
  }

  async listConversations(
    view: IndexView,
    operatorId: string,
    before: number | null,
    limit: number,
    beforeId: string | null = null,
  ): Promise<{ conversations: ConversationSummary[]; hasMore: boolean }> {
    return this.index.page(view, operatorId, before, limit, beforeId);
  }

  /** Other conversations with this visitor email, newest first. */
  async conversationsByEmail(email: string, exceptId: string, limit: number): Promise<ConversationSummary[]> {
    return this.index.byEmail(email, exceptId, limit);
  }

  /** Conversations of one visitor (by id) or one email address, for an erasure request. */
  async conversationsOf(actor: Operator, who: { visitorId?: string; email?: string }): Promise<Result<string[]>> {
    return this.asAdmin(actor, "erase a person's data", () => this.index.conversationsOf(who));
  }

  // Verified site users -------------------------------------------------------

  /** The conversation of a verified site user (see verified-users.ts). */
  async bindVerifiedUser(userId: string, current: VisitorBinding | null): Promise<VisitorBinding> {
    return this.verified.bind(userId, current);
  }

  /** A new conversation for a verified user whose bound one turned out to be deleted. */
  async rebindVerifiedUser(userId: string, deletedConversationId: string): Promise<VisitorBinding> {
    return this.verified.rebind(userId, deletedConversationId);
  }

  // Reports -------------------------------------------------------------------

  /** A visitor's rating, credited to every operator of that stretch. Idempotent per survey id. */
  async recordRating(input: RatingInput): Promise<void> {
    this.reports.recordRating(input);
  }

  async operatorReport(from: number, to: number): Promise<OperatorReportResponse> {
    return this.reports.operatorReport(from, to);
  }

  // Webhooks ------------------------------------------------------------------

  async addWebhook(
    actor: Operator,
    url: string,
    events: WebhookEvent[],
  ): Promise<Result<{ webhook: WebhookInfo; secret: string }>> {
    return this.asAdmin(actor, "manage webhooks", () => this.webhooks.add(url, events));
  }

  async listWebhooks(actor: Operator): Promise<Result<WebhookInfo[]>> {
    return this.asAdmin(actor, "manage webhooks", () => this.webhooks.list());
  }

  async removeWebhook(actor: Operator, id: string): Promise<Result<null>> {
    return this.asAdmin(actor, "manage webhooks", () => {
      this.webhooks.remove(id);
      return null;
    });
  }

  /** The 50 most recent deliveries of a webhook, for the admins' log. */
  async webhookDeliveries(actor: Operator, id: string): Promise<Result<WebhookDeliveryInfo[]>> {
    return this.asAdmin(actor, "manage webhooks", () => this.webhooks.deliveries(id));
  }

  /** Queues an event (its data as JSON text) for every webhook that wants it; the alarm delivers them. */
  async emit(event: WebhookEvent, data: string): Promise<void> {
    this.webhooks.queue(event, JSON.parse(data) as object);
  }

  // Settings ------------------------------------------------------------------

  async getSettings(): Promise<WorkspaceSettings> {
    return this.settings.view();
  }

  async updateSettings(actor: Operator, input: Partial<WorkspaceSettings>): Promise<Result<WorkspaceSettings>> {
    return this.asAdmin(actor, "change settings", async () => {
      this.settings.update(input);
      if (input.retentionDays !== undefined) await this.retention.settingChanged();
      return this.settings.view();
    });
  }

  // Email threading -----------------------------------------------------------

  /** The conversation an inbound mail belongs to (see email-threads.ts); null: drop it. */
  async routeEmail(input: InboundEmail): Promise<RoutedEmail | null> {
    return this.threads.route(input);
  }

  /** The thread token of a conversation (made on first use) so email replies find their way back. */
  async ensureEmailThread(conversationId: string, visitorId: string, sender: string): Promise<string> {
    return this.threads.ensure(conversationId, visitorId, sender);
  }

  /** Remembers the Message-ID of a reply we sent, for threading the answer to it. */
  async recordEmailId(conversationId: string, messageId: string): Promise<void> {
    this.threads.recordMessageId(conversationId, messageId);
  }
}
