/**
 * Workspace Durable Object: one instance per workspace, holding what spans
 * conversations. This class is the only part the runtime sees: it turns
 * RPC calls, panel sockets and the alarm into calls on the modules beside
 * it, and decides nothing itself beyond which calls are admin-only.
 *
 * (One module per concern; README.md "Code layout" lists them.)
 *
 * Every module is rebuilt with the object, so when it wakes from
 * hibernation the in-memory caches (waiting count, report window, webhook
 * subscriptions) start empty and are read again from storage; sockets are
 * found again by tag.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { attempt, refuse, type Result } from "../errors";
import type {
  ApiTokenInfo,
  AuditPage,
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
import { ApiTokens, type NewApiToken } from "./api-tokens";
import { AuditLog } from "./audit";
import { ConversationIndex, type IndexReportAnswer, type IndexView } from "./conversation-index";
import { EmailThreads, type InboundEmail, type RoutedEmail } from "./email-threads";
import { LoginThrottle, type LoginGate, type LoginKeys } from "./login-throttle";
import { OperatorSockets } from "./operator-sockets";
import { Operators, type DeleteGrounds, type NewOperator, type OperatorSession } from "./operators";
import { PanelSockets } from "./panel-sockets";
import { Reports, type OperatorStat, type RatingInput } from "./reports";
import { Retention } from "./retention";
import { Scheduler } from "./scheduler";
import { workspaceMigrations } from "./schema";
import { Settings } from "./settings";
import { VerifiedUsers, type VisitorBinding } from "./verified-users";
import { VisitorAvailability } from "./visitor-availability";
import { Webhooks } from "./webhooks";

export class Workspace extends DurableObject<Env> {
  private readonly operators: Operators;
  private readonly logins: LoginThrottle;
  private readonly tokens: ApiTokens;
  private readonly audit: AuditLog;
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
  private readonly availability: VisitorAvailability;

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
    this.logins = new LoginThrottle(w);
    this.tokens = new ApiTokens(w);
    this.audit = new AuditLog(w);
    this.panels = new PanelSockets(w, this.operators);
    // Alarm jobs run in the order they register: word of ended sessions first, webhook deliveries, then retention.
    this.operatorSockets = new OperatorSockets(w, this.panels, this.scheduler);
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
    this.availability = new VisitorAvailability(w, this.panels, this.scheduler);
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
    // Reports received so far go out first, to the panels already open: a new panel's first lists include them.
    this.index.settle();
    const answer = this.panels.connect(request, this.index);
    // A panel let in may change who can answer (a refused one changes nothing, and is told nothing).
    this.availability.changed();
    return answer;
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    this.panels.message(ws, data, this.index);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.panels.close(ws, code);
    this.availability.changed(true);
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

  /** A sign-in starts: refused (`waitMs` > 0) while locked out, else counted, with the hash to verify (login-throttle.ts). */
  async loginAttempt(
    keys: LoginKeys,
  ): Promise<LoginGate & { credentials: { operatorId: string; passwordHash: string } | null }> {
    const gate = this.logins.begin(keys);
    return { ...gate, credentials: gate.waitMs > 0 ? null : this.operators.credentials(keys.email) };
  }

  /** The password was right: the account's failures start over. */
  async loginSucceeded(keys: LoginKeys): Promise<void> {
    this.logins.succeeded(keys);
  }

  async createSession(operatorId: string): Promise<string> {
    return this.operators.createSession(operatorId);
  }

  /** Signs a session out: it stops working, and every socket opened with it closes. */
  async endSession(token: string): Promise<void> {
    const ended = await this.operators.endSession(token);
    if (ended) {
      this.operatorSockets.end(ended.operatorId, "signedOut", ended.sessionId);
      this.availability.changed();
    }
  }

  async authenticate(token: string): Promise<Operator | null> {
    return this.operators.authenticate(token);
  }

  /** Sign out everywhere (oneself, or another operator as an admin), audited; answers how many sessions ended. */
  async endSessions(actor: Operator, operatorId: string): Promise<Result<number>> {
    return attempt(() => {
      if (operatorId !== actor.id) this.operators.requireAdmin(actor, "sign other operators out");
      const target = this.operators.list().find((o) => o.id === operatorId);
      if (!target) return refuse("not_found", "No such operator");
      // The sessions end first, so nothing can reopen; then every socket they opened (operator-sockets.ts).
      const ended = this.operators.endSessions(operatorId);
      this.operatorSockets.end(operatorId, "signedOut", null);
      this.availability.changed();
      this.audit.operator(actor, "sessions.ended", target, `${ended} ${ended === 1 ? "session" : "sessions"}`);
      return ended;
    });
  }

  /** A socket's session (or null), recorded against `conversationId` so ending the session closes it. */
  async admitSocket(token: string, conversationId: string | null): Promise<OperatorSession | null> {
    const session = await this.operators.sessionOf(token);
    if (session && conversationId) this.operatorSockets.track(session.id, session.operator.id, conversationId);
    return session;
  }

  /** Whether the session with this id (a token's hash) still holds: asked by conversations about their sockets. */
  async sessionActive(sessionId: string, operatorId: string): Promise<boolean> {
    return this.operators.session(sessionId)?.operator.id === operatorId;
  }

  // Operators and presence ----------------------------------------------------

  async listOperators(): Promise<Operator[]> {
    return this.operators.list();
  }

  async addOperator(actor: Operator, input: NewOperator): Promise<Result<Operator>> {
    return this.asAdmin(actor, "manage operators", () => {
      const operator = this.operators.insert(input);
      this.panels.broadcastPresence();
      this.audit.operator(actor, "operator.added", operator, operator.admin ? "admin" : null);
      return operator;
    });
  }

  async removeOperator(actor: Operator, operatorId: string): Promise<Result<null>> {
    return this.asAdmin(actor, "manage operators", () => {
      const removed = this.operators.list().find((o) => o.id === operatorId);
      this.operators.remove(actor, operatorId);
      if (removed) this.audit.operator(actor, "operator.removed", removed);
      this.operatorSockets.end(operatorId, "removed", null);
      this.panels.broadcastPresence();
      this.availability.changed();
      return null;
    });
  }

  /** An operator sets themselves online or away. */
  async setStatus(operatorId: string, status: PresenceStatus): Promise<void> {
    this.operators.setStatus(operatorId, status);
    this.panels.broadcastPresence();
    this.availability.changed();
  }

  /**
   * A visitor of `conversationId` said hello: whether anyone can answer now (an operator with the panel open and
   * not Away); the conversation is told of every change until `unwatchAvailability` (visitor-availability.ts).
   */
  async watchAvailability(conversationId: string): Promise<boolean> {
    return this.availability.watch(conversationId);
  }

  /** The visitor of `conversationId` closed their last socket. */
  async unwatchAvailability(conversationId: string): Promise<void> {
    this.availability.unwatch(conversationId);
  }

  // API tokens ----------------------------------------------------------------

  async createToken(actor: Operator, input: NewApiToken): Promise<Result<{ token: string; info: ApiTokenInfo }>> {
    return this.asAdmin(actor, "manage API tokens", async () => {
      const made = await this.tokens.create(actor, input);
      this.audit.tokenCreated(actor, made.info);
      return made;
    });
  }

  async listTokens(actor: Operator): Promise<Result<ApiTokenInfo[]>> {
    return this.asAdmin(actor, "manage API tokens", () => this.tokens.list());
  }

  async revokeToken(actor: Operator, id: string): Promise<Result<null>> {
    return this.asAdmin(actor, "manage API tokens", () => {
      this.audit.record(actor, "token.revoked", this.tokens.revoke(id));
      return null;
    });
  }

  /** The operator an API token acts as, carrying the token and its scope; refused when unknown, revoked or expired. */
  async authenticateToken(token: string): Promise<Result<Operator>> {
    return attempt(() => this.tokens.authenticate(token));
  }

  // Conversation index --------------------------------------------------------

  /** A conversation's report of its state (called by Conversation objects). */
  async upsertConversation(
    summary: ConversationSummary & { version: number },
    stats: OperatorStat[] = [],
    messages: Message[] = [],
  ): Promise<IndexReportAnswer> {
    return this.index.queue(summary, stats, messages);
  }

  /** Whether `actor` may delete (Settings' rule; `joined` from the conversation): the grounds, or 403. */
  async mayDelete(actor: Operator, joined: boolean): Promise<Result<DeleteGrounds>> {
    return attempt(() => this.operators.mayDelete(actor, joined, this.settings.deleteBy()));
  }

  /** Forgets a deleted conversation everywhere and audits who deleted it (an erasure audits itself once). */
  async forgetConversation(id: string, actor: Operator | null = null, grounds: DeleteGrounds = "admin"): Promise<void> {
    this.index.forget(id);
    if (actor) this.audit.deleted(actor, id, grounds);
  }

  /** Records a privacy erasure: whose, and which conversations went. */
  async recordErasure(actor: Operator, who: { visitorId?: string; email?: string }, ids: string[]): Promise<void> {
    this.audit.erased(actor, who, ids);
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
    // Figures ride along with index reports: those received so far count.
    this.index.settle();
    return this.reports.operatorReport(from, to);
  }

  // Webhooks ------------------------------------------------------------------

  async addWebhook(
    actor: Operator,
    url: string,
    events: WebhookEvent[],
  ): Promise<Result<{ webhook: WebhookInfo; secret: string }>> {
    return this.asAdmin(actor, "manage webhooks", () => {
      const added = this.webhooks.add(url, events);
      this.audit.record(actor, "webhook.added", url, events.join(", "));
      return added;
    });
  }

  async listWebhooks(actor: Operator): Promise<Result<WebhookInfo[]>> {
    return this.asAdmin(actor, "manage webhooks", () => this.webhooks.list());
  }

  async removeWebhook(actor: Operator, id: string): Promise<Result<null>> {
    return this.asAdmin(actor, "manage webhooks", () => {
      this.audit.record(actor, "webhook.removed", this.webhooks.remove(id));
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

  // Audit log -----------------------------------------------------------------

  /** A page of the audit log, newest first (admins). */
  async auditLog(actor: Operator, before: number | null, limit: number): Promise<Result<AuditPage>> {
    return this.asAdmin(actor, "read the audit log", () => this.audit.page(before, limit));
  }

  // Settings ------------------------------------------------------------------

  async getSettings(): Promise<WorkspaceSettings> {
    return this.settings.view();
  }

  async updateSettings(actor: Operator, input: Partial<WorkspaceSettings>): Promise<Result<WorkspaceSettings>> {
    return this.asAdmin(actor, "change settings", async () => {
      const before = this.settings.view();
      this.settings.update(input);
      this.audit.settingsChanged(actor, before, this.settings.view());
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
