// The survey's own rules, one at a time: which survey an answer may name,
// what is kept of it, when it goes out by email and to whom it is credited.
import { runInDurableObject } from "cloudflare:test";
import PostalMime from "postal-mime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN,
  conversationObject,
  failingBinding,
  fetchApp,
  join,
  json,
  leave,
  newOperator,
  newVisitorSession,
  operatorSocket,
  recordSentMail,
  say,
  signInAdmin,
  visitorSocket,
  visitorWithMessage,
} from "./helpers";
import { eventually } from "./mail-helpers";

/** A meta value of conversation `id` as stored (JSON), or null when the key is absent. */
function storedMeta<T>(id: string, key: string): Promise<T | null> {
  return runInDurableObject(conversationObject(id), (_o, state) => {
    const row = state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : null;
  });
}

const NOT_OPEN = { type: "error", code: "not_found", message: "This survey is no longer open" };

let admin = "";
beforeAll(async () => {
  admin = await signInAdmin();
  const on = await fetchApp("/api/settings", { ...json({ surveyByEmail: true }, { Cookie: admin }), method: "PUT" });
  expect(on.status, "turning survey mail on").toBe(200);
});
afterAll(async () => {
  await fetchApp("/api/settings", { ...json({ surveyByEmail: false }, { Cookie: admin }), method: "PUT" });
});

describe("survey answers", () => {
  it("name the survey that waits, by its id: none before one is offered, none under another id, none after", async () => {
    const { session, v } = await visitorWithMessage();
    const before = crypto.randomUUID();

    // No survey yet: an answer to one is refused in words, not with an internal error.
    v.send({ type: "rate", surveyId: before, rating: 5 });
    expect(await v.next("error")).toEqual(NOT_OPEN);

    expect((await join(admin, session.conversationId)).status).toBe(200);
    expect((await leave(admin, session.conversationId)).status).toBe(200);
    const offered = await v.until("state", (f) => f.state.survey !== null);
    const surveyId = offered.state.survey!.id;

    // A survey waits: an answer under any other id is refused, and the survey still waits.
    v.send({ type: "rate", surveyId: before, rating: 1 });
    expect(await v.next("error")).toEqual(NOT_OPEN);
    v.send({ type: "dismissSurvey", surveyId: before });
    expect(await v.next("error")).toEqual(NOT_OPEN);
    expect(await storedMeta(session.conversationId, "survey")).toMatchObject({ id: surveyId, state: "pending" });

    // Dismissed under its own id: kept as dismissed, the widget told, and an answer after it refused.
    v.send({ type: "dismissSurvey", surveyId });
    await v.until("state", (f) => f.state.survey === null);
    expect(await storedMeta(session.conversationId, "survey")).toEqual({
      id: surveyId,
      operators: [{ id: expect.any(String), name: ADMIN.name }],
      state: "dismissed",
    });
    v.send({ type: "rate", surveyId, rating: 5 });
    expect(await v.next("error")).toEqual(NOT_OPEN);
    v.close();
  });

  it("an answer with no comment is logged as the bare rating and kept as answered", async () => {
    const { session, v } = await visitorWithMessage();
    await join(admin, session.conversationId);
    await leave(admin, session.conversationId);
    const surveyId = (await v.until("state", (f) => f.state.survey !== null)).state.survey!.id;
    v.send({ type: "rate", surveyId, rating: 5 });
    const rated = await v.until("message", (f) => f.message.event === "rated");
    expect(rated.message.text).toBe("Rated 5/5");
    expect(rated.message.rating).toBe(5);
    expect(await storedMeta(session.conversationId, "survey")).toMatchObject({ id: surveyId, state: "answered" });
    v.close();
  });

  it("a stretch nobody is credited with (joined before credits were kept) offers no survey", async () => {
    const { session, v } = await visitorWithMessage();
    await join(admin, session.conversationId);
    await v.until("state", (f) => f.state.status === "assigned");
    await runInDurableObject(conversationObject(session.conversationId), (_o, state) => {
      state.storage.sql.exec("DELETE FROM stretch_operators");
    });
    await leave(admin, session.conversationId);
    const idle = await v.until("state", (f) => f.state.status === "idle");
    expect(idle.state.survey, "a survey crediting nobody").toBeNull();
    expect(await storedMeta(session.conversationId, "survey")).toBeNull();
    v.close();
  });
});

describe("the survey by email", () => {
  /** A widget conversation whose visitor gave an email address, with its socket open and the mail it sends kept. */
  async function visitorWithAddress() {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    v.send({ type: "profile", email: `rater.${crypto.randomUUID().slice(0, 8)}@example.org` });
    await v.until("state", (f) => f.state.visitor?.email != null);
    await say(v, "hello");
    const sent = await recordSentMail(session.conversationId);
    return { session, v, sent };
  }

  it("goes only to a visitor who has closed the widget, and names everyone of the stretch", async () => {
    const { session, v, sent } = await visitorWithAddress();
    const bob = await newOperator(admin, "Bob");

    // The widget is open when the survey is offered: it is shown there, not mailed.
    await join(admin, session.conversationId);
    await leave(admin, session.conversationId);
    const shown = (await v.until("state", (f) => f.state.survey !== null)).state.survey!.id;

    // The widget closed, the next survey is mailed: the only mail sent, for that survey.
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    v.close();
    await op.until("state", (f) => f.state.visitorOnline === false);
    await join(admin, session.conversationId);
    await join(bob.cookie, session.conversationId);
    await leave(bob.cookie, session.conversationId);
    await leave(admin, session.conversationId);
    const mailed = await eventually(
      () => storedMeta<{ survey: string; outcome: string }>(session.conversationId, "survey_mail"),
      (m) => m !== null,
      10_000,
    );
    expect(mailed!.survey).not.toBe(shown);
    expect(mailed!.outcome).toBe("sent");
    expect(sent, "mail handed to send_email: the second survey's only").toHaveLength(1);
    const mail = await PostalMime.parse(sent[0]!);
    expect([
      `How was your conversation with ${ADMIN.name}, Bob?`,
      `How was your conversation with Bob, ${ADMIN.name}?`,
    ]).toContain(mail.subject);
    op.close();
  });

  it("a survey mail the binding refuses is recorded as failed, and the survey still waits in the widget", async () => {
    const { session, v } = await visitorWithAddress();
    await failingBinding(session.conversationId, "SEND_EMAIL", {
      send: () => Promise.reject(new Error("destination address not verified")),
    });
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    v.close();
    await op.until("state", (f) => f.state.visitorOnline === false);
    await join(admin, session.conversationId);
    await leave(admin, session.conversationId);
    const survey = (await op.until("state", (f) => f.state.survey !== null)).state.survey!.id;
    const failed = await eventually(
      () => storedMeta<{ survey: string; outcome: string }>(session.conversationId, "survey_mail"),
      (m) => m !== null,
      10_000,
    );
    expect(failed).toEqual({ survey, outcome: "failed" });

    // Back in the widget, the survey is there to answer.
    const again = await visitorSocket(session);
    const welcome = await again.next("welcome");
    expect(welcome.state.survey?.id).toBe(survey);
    again.close();
    op.close();
  });
});
