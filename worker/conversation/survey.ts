/**
 * The satisfaction survey: offered when the last operator leaves, crediting
 * everyone who took part since the previous offer; answered or dismissed by
 * the visitor (in the widget, or through the link of a survey email).
 */
import { EmailMessage } from "cloudflare:email";
import { buildReply, tokenAddress } from "../email/outbound";
import { refuse } from "../errors";
import { randomId, signToken } from "../lib/crypto";
import { workspaceStub } from "../stubs";
import type { ConversationContext } from "./context";
import { appendEvent } from "./log";
import type { StoredSurvey } from "./meta";
import { broadcast, visitorSockets } from "./sockets";
import { broadcastState } from "./state";
import { logError } from "../lib/log";

/**
 * How long the link in a survey email stays good. The token sits in a URL
 * path (where logs and browser history can keep it), so it is short-lived,
 * and single-use: it answers one survey, which closes once answered.
 */
const LINK_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** Remembers an operator who took part in this stretch (credited by the next survey). */
export function creditOperator(c: ConversationContext, operator: { id: string; name: string }): void {
  c.sql.exec("INSERT OR REPLACE INTO stretch_operators (operator_id, name) VALUES (?, ?)", operator.id, operator.name);
}

/**
 * Offers the survey (the last operator just left). It waits until answered
 * or dismissed (shown the next time the widget opens), once per leave.
 * `publicUrl` is where the link of a survey email points.
 */
export function offerSurvey(c: ConversationContext, publicUrl: string): void {
  const operators = c.sql
    .exec<{ operator_id: string; name: string }>("SELECT operator_id, name FROM stretch_operators")
    .toArray()
    .map((r) => ({ id: r.operator_id, name: r.name }));
  if (operators.length === 0) return;
  const survey: StoredSurvey = { id: randomId(), operators, state: "pending" };
  c.meta.survey = survey;
  c.sql.exec("DELETE FROM stretch_operators");
  // Email-only visitors (no widget open, an address known) get the survey as
  // a link in a follow-up email, if the workspace turned that on.
  if (visitorSockets(c).length === 0 && c.meta.visitorEmail) c.ctx.waitUntil(emailSurvey(c, survey, publicUrl));
}

async function emailSurvey(c: ConversationContext, survey: StoredSurvey, publicUrl: string): Promise<void> {
  const meta = c.meta;
  try {
    const workspace = workspaceStub(c.env, meta.workspace!);
    const settings = await workspace.getSettings();
    if (!settings.surveyByEmail || !settings.emailAddress) {
      meta.surveyMail = { survey: survey.id, outcome: "off" };
      return;
    }
    const token = await signToken(c.env.SESSION_SECRET, {
      t: "rate",
      c: meta.id,
      s: survey.id,
      exp: Date.now() + LINK_LIFETIME_MS,
    });
    const link = `${publicUrl.replace(/\/$/, "")}/rate/${token}`;
    const names = survey.operators.map((o) => o.name).join(", ");
    const thread = await workspace.ensureEmailThread(meta.id!, meta.visitorId!, meta.visitorEmail!);
    const from = settings.emailAddress;
    const raw = buildReply({
      from: { name: settings.emailName, address: from },
      to: meta.visitorEmail!,
      replyTo: tokenAddress(from, thread),
      subject: `How was your conversation with ${names}?`,
      text: `Thanks for getting in touch. How did we do? Rate the conversation (1–5) here:\n\n${link}\n\nIt takes one click.`,
      messageId: `<${randomId()}@${from.slice(from.lastIndexOf("@") + 1)}>`,
      inReplyTo: null,
      references: [],
      // A survey mail is automatic: marked so, auto-responders do not answer it.
      autoSubmitted: "auto-generated",
    });
    await c.env.SEND_EMAIL.send(new EmailMessage(from, meta.visitorEmail!, raw));
    meta.surveyMail = { survey: survey.id, outcome: "sent" };
  } catch (err) {
    logError("survey.email_failed", { conversationId: meta.id, surveyId: survey.id }, err);
    meta.surveyMail = { survey: survey.id, outcome: "failed" };
  }
}

/** The survey `surveyId`, if it is the one still waiting for an answer. */
function openSurvey(c: ConversationContext, surveyId: string): StoredSurvey {
  if (!surveyOpen(c, surveyId)) refuse("not_found", "This survey is no longer open");
  return c.meta.survey!;
}

/** Whether survey `surveyId` still waits for an answer (a survey link shows its form only then). */
export function surveyOpen(c: ConversationContext, surveyId: string): boolean {
  const survey = c.meta.survey;
  return survey?.id === surveyId && survey.state === "pending";
}

/** The visitor closed the survey without answering. */
export function dismissSurvey(c: ConversationContext, surveyId: string): void {
  const survey = openSurvey(c, surveyId);
  c.meta.survey = { ...survey, state: "dismissed" };
  broadcastState(c);
}

/** The visitor's answer: logged as a "rated" event, and told to the workspace's report at once. */
export async function rate(
  c: ConversationContext,
  surveyId: string,
  rating: number,
  comment: string | undefined,
): Promise<void> {
  const survey = openSurvey(c, surveyId);
  const text = `Rated ${rating}/5${comment ? `: ${comment}` : ""}`;
  const message = c.transaction(() => {
    c.meta.survey = { ...survey, state: "answered" };
    return appendEvent(c, { id: "", name: "Visitor" }, text, { event: "rated", rating });
  });
  broadcast(c, { type: "message", message });
  broadcastState(c);
  // Ratings are rare and matter: the workspace hears of them at once.
  await workspaceStub(c.env, c.meta.workspace!).recordRating({
    id: survey.id,
    conversationId: c.meta.id!,
    rating,
    comment: comment ?? null,
    operatorIds: survey.operators.map((o) => o.id),
    at: message.at,
  });
}
