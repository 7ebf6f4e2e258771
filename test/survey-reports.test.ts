import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";
import type { Message, OperatorReportResponse } from "../worker/protocol";
import { reportCsv } from "../worker/services/reports";
import {
  ADMIN,
  fetchApp,
  indexRow,
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
} from "./helpers";

import { eventually } from "./mail-helpers";
const DAY = 24 * 3600 * 1000;
const workspace = () => env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));

async function report(cookie: string, from: number, to: number): Promise<OperatorReportResponse> {
  const res = await fetchApp(`/api/reports/operators?from=${from}&to=${to}`, { headers: { Cookie: cookie } });
  expect(res.status).toBe(200);
  return (await res.json()) as OperatorReportResponse;
}

describe("satisfaction survey", () => {
  it("is offered after the last operator leaves, not after a non-last leave, and credits everyone of that stretch", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "help please");
    await join(admin, session.conversationId);
    await join(bob.cookie, session.conversationId);

    await leave(bob.cookie, session.conversationId);
    const afterBob = await v.until("state", (f) => f.state.operators.length === 1);
    expect(afterBob.state.survey).toBeNull();

    await leave(admin, session.conversationId);
    const afterAll = await v.until("state", (f) => f.state.status === "idle");
    expect(afterAll.state.survey?.operators.sort()).toEqual(["Ada Admin", "Bob"]);

    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    const adaBefore = (await report(admin, Date.now() - DAY, Date.now() + DAY)).operators.find(
      (o) => o.name === "Ada Admin",
    );
    v.send({ type: "rate", surveyId: afterAll.state.survey!.id, rating: 4, comment: "Quick and kind" });
    const event = await op.until("message", (f) => f.message.event === "rated");
    expect(event.message.text).toBe("Rated 4/5: Quick and kind");
    expect(event.message.rating).toBe(4);
    const closed = await v.until("state", (f) => f.state.survey === null);
    expect(closed.state.survey).toBeNull();

    // Counted exactly once for each operator of the stretch (Ada may have ratings from earlier tests).
    const today = await report(admin, Date.now() - DAY, Date.now() + DAY);
    const ada = today.operators.find((o) => o.name === "Ada Admin")!;
    expect(ada.ratings, "Ada's ratings").toBe((adaBefore?.ratings ?? 0) + 1);
    expect(ada.distribution, "Ada's stars").toEqual(
      (adaBefore?.distribution ?? [0, 0, 0, 0, 0]).map((n, i) => (i === 3 ? n + 1 : n)),
    );
    expect(today.operators.find((o) => o.id === bob.id)).toMatchObject({
      ratings: 1,
      averageRating: 4,
      distribution: [0, 0, 0, 1, 0],
    });
    // Answered once: a second answer is refused.
    v.send({ type: "rate", surveyId: afterAll.state.survey!.id, rating: 1 });
    expect((await v.next("error")).code).toBe("not_found");
    v.close();
    op.close();
  });

  it("waits for a visitor who was away, is shown once, and a dismissal ends it", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "question");
    await join(admin, session.conversationId);
    v.close(); // the visitor goes away
    await leave(admin, session.conversationId);

    const back = await visitorSocket(session);
    const welcome = await back.next("welcome");
    expect(welcome.state.survey).not.toBeNull();
    back.send({ type: "dismissSurvey", surveyId: welcome.state.survey!.id });
    await back.until("state", (f) => f.state.survey === null);
    back.close();
    const again = await visitorSocket(session);
    expect((await again.next("welcome")).state.survey).toBeNull();
    // Bad answers get errors, and operators cannot answer for the visitor.
    again.send({ type: "rate", surveyId: "x", rating: 9 });
    expect((await again.next("error")).code).toBe("bad_frame");
    again.close();
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");
    op.send({ type: "rate", surveyId: welcome.state.survey!.id, rating: 5 });
    expect((await op.next("error")).code).toBe("forbidden");
    op.close();
  });
  it("a rating is kept in its own column, never read back from its text, and ratings stored before the column keep working", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const id = session.conversationId;
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "help please");
    await join(admin, id);
    await leave(admin, id);
    const offered = await v.until("state", (f) => f.state.survey !== null);
    v.send({ type: "rate", surveyId: offered.state.survey!.id, rating: 4, comment: "Rated 1/5 elsewhere, 4 here" });
    await v.until("message", (f) => f.message.event === "rated");
    v.close();
    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(id));
    const rated = async () => {
      const res = await fetchApp(`/api/conversations/${id}/messages`, { headers: { Cookie: admin } });
      const { messages } = (await res.json()) as { messages: Message[] };
      return messages.filter((m) => m.event === "rated").map((m) => [m.text, m.rating]);
    };

    // The text is for display only: rewritten behind the object's back, the rating stays 4.
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("UPDATE messages SET text = 'Rated 1/5' WHERE event = 'rated'");
    });
    await evictDurableObject(stub);
    expect(await rated(), "rating after its text changed").toEqual([["Rated 1/5", 4]]);

    // A conversation stored before the rating column existed: its migration reads the rating from the text once.
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("UPDATE messages SET text = 'Rated 3/5: from before' WHERE event = 'rated'");
      state.storage.sql.exec("ALTER TABLE messages DROP COLUMN rating");
      state.storage.sql.exec("DELETE FROM _migrations WHERE id >= 5");
    });
    await evictDurableObject(stub);
    expect(await rated(), "rating of a message stored before the column").toEqual([["Rated 3/5: from before", 3]]);
  });
});

describe("survey by email", () => {
  it("an email-only visitor gets the survey as a link, only when the workspace enables it, and can answer once", async () => {
    const admin = await signInAdmin();
    const worker = (await import("../worker/index")).default;
    const sender = `mailonly.${Date.now()}@example.org`;
    const mail = (id: string) => {
      const raw = `From: ${sender}\r\nTo: support@microchat.example\r\nSubject: Help\r\nMessage-ID: <${id}@example.org>\r\n\r\nHelp\r\n`;
      const bytes = new TextEncoder().encode(raw);
      return {
        from: sender,
        to: "support@microchat.example",
        headers: new Headers(),
        raw: new Response(bytes).body!,
        rawSize: bytes.byteLength,
        setReject() {},
      } as unknown as ForwardableEmailMessage;
    };
    const convOf = async () => {
      const res = await fetchApp("/api/conversations?view=all&limit=200", { headers: { Cookie: admin } });
      return (
        (await res.json()) as { conversations: { id: string; visitor: { email: string | null } }[] }
      ).conversations.find((c) => c.visitor.email === sender)!;
    };
    /** What the survey email step decided for the conversation's current survey, once it has. */
    const decided = async (id: string, surveyBefore: string | null) => {
      const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(id));
      const read = () =>
        runInDurableObject(stub, (_o, state) => {
          const row = (key: string) =>
            state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
          const survey = JSON.parse(row("survey") ?? "null") as { id: string } | null;
          const mail = JSON.parse(row("survey_mail") ?? "null") as { survey: string; outcome: string } | null;
          return { survey: survey?.id ?? null, mail };
        });
      const seen = await eventually(read, (s) => s.survey !== surveyBefore && s.mail?.survey === s.survey, 10_000);
      expect(seen.mail?.survey, `the survey mail step for a new survey; saw ${JSON.stringify(seen)}`).toBe(seen.survey);
      return { surveyId: seen.survey!, outcome: seen.mail!.outcome };
    };

    // Off (the default): the step decides "off" and hands nothing to send_email.
    await worker.email(mail(`a${Date.now()}`), env);
    const c1 = await convOf();
    const sent = await recordSentMail(c1.id);
    await join(admin, c1.id);
    await leave(admin, c1.id);
    const off = await decided(c1.id, null);
    expect(off.outcome).toBe("off");
    expect(sent, "mail handed to send_email while survey mail is off").toHaveLength(0);

    // On: the survey goes out by email with a one-click link.
    await fetchApp("/api/settings", { ...json({ surveyByEmail: true }, { Cookie: admin }), method: "PUT" });
    await join(admin, c1.id);
    await leave(admin, c1.id);
    const on = await decided(c1.id, off.surveyId);
    expect(on.outcome).toBe("sent");
    const surveyId = on.surveyId;
    // The survey mail is automatic and says so, so auto-responders leave it unanswered.
    expect(sent, "mail handed to send_email for the survey").toHaveLength(1);
    const surveyMail = await PostalMime.parse(sent[0]!);
    expect(surveyMail.headers.find((h) => h.key === "auto-submitted")?.value).toBe("auto-generated");
    // It names who the visitor talked to, starts a thread of its own (no In-Reply-To, no References) under an id of
    // the mailbox's domain, and its link is the public address with one slash before /rate/.
    expect(surveyMail.subject).toBe(`How was your conversation with ${ADMIN.name}?`);
    expect(surveyMail.messageId).toMatch(/^<[^@<>]+@microchat\.example>$/);
    expect(surveyMail.inReplyTo ?? null).toBeNull();
    expect(surveyMail.references ?? null).toBeNull();
    expect(surveyMail.text).toMatch(/\n\nhttps?:\/\/[^/\s]+\/rate\/[A-Za-z0-9_.-]+\n\n/);
    // The link in the mail: short-lived (7 days at most), naming this conversation's survey.
    const token = /\/rate\/([A-Za-z0-9_.-]+)/.exec(surveyMail.text ?? "")?.[1] ?? "";
    const claims = JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as {
      c: string;
      s: string;
      exp: number;
    };
    expect(claims).toMatchObject({ c: c1.id, s: surveyId });
    expect(claims.exp - Date.now(), "the link's life").toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
    const pageRes = await fetchApp(`/rate/${token}`);
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    expect(await pageRes.text()).toContain('name="rating"');
    const form = new FormData();
    form.set("rating", "5");
    form.set("comment", "<b>great</b>");
    const answer = await fetchApp(`/rate/${token}`, { method: "POST", body: form });
    expect(answer.status).toBe(200);
    const msgs = await fetchApp(`/api/conversations/${c1.id}/messages`, { headers: { Cookie: admin } });
    const rated = ((await msgs.json()) as { messages: Message[] }).messages.at(-1)!;
    expect(rated).toEqual({
      seq: rated.seq,
      clientId: rated.clientId,
      kind: "event",
      event: "rated",
      rating: 5,
      author: { role: "system", id: "", name: "Visitor" },
      text: "Rated 5/5: <b>great</b>",
      at: rated.at,
    });
    expect(Object.keys(rated).sort(), "no other field on the wire").toEqual([
      "at",
      "author",
      "clientId",
      "event",
      "kind",
      "rating",
      "seq",
      "text",
    ]);
    const after = await fetchApp(`/api/conversations/${c1.id}`, { headers: { Cookie: admin } });
    expect(
      ((await after.json()) as { state: { survey: unknown } }).state.survey,
      "answered: no survey waits",
    ).toBeNull();
    // Single-use: once answered, the link neither takes another answer nor shows the form again.
    expect((await fetchApp(`/rate/${token}`, { method: "POST", body: form })).status).toBe(409);
    const reopened = await fetchApp(`/rate/${token}`);
    expect(reopened.status, "the link after the answer").toBe(409);
    expect(await reopened.text()).not.toContain('name="rating"');
    // A link whose time is up shows that it expired.
    const { signToken } = await import("../worker/lib/crypto");
    const stale = await signToken("test-secret-0123456789abcdef", {
      t: "rate",
      c: c1.id,
      s: surveyId,
      exp: Date.now() - 1,
    });
    expect((await fetchApp(`/rate/${stale}`)).status, "an expired link").toBe(404);
    expect((await fetchApp("/rate/forged.token")).status).toBe(404);
    await fetchApp("/api/settings", { ...json({ surveyByEmail: false }, { Cookie: admin }), method: "PUT" });
  });
});

describe("Report > Operator", () => {
  it("counts what an operator really did: one join, each reply once, one first response time", async () => {
    const admin = await signInAdmin();
    const fay = await newOperator(admin, "Fay");
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const asked = await say(v, "hello?", "visitor-hello");
    expect((await join(fay.cookie, session.conversationId)).status).toBe(200);
    const op = await operatorSocket(fay.cookie, session.conversationId);
    await op.next("welcome");
    const answered = await say(op, "hi, how can I help?");
    await say(op, "still there?");
    // A client id another author used is refused, and counts for nothing.
    op.send({ type: "send", clientId: "visitor-hello", text: "not mine" });
    expect(await op.next("error")).toEqual({
      type: "error",
      code: "bad_frame",
      message: "clientId already used",
      clientId: "visitor-hello",
    });
    const now = Date.now();
    const mine = () => report(admin, now - DAY, now + DAY).then((r) => r.operators.find((o) => o.id === fay.id));
    const seen = await eventually(mine, (o) => o?.messagesSent === 2, 10_000);
    expect(seen, JSON.stringify(seen)).toMatchObject({ conversationsJoined: 1, messagesSent: 2 });
    // The first response time is from the visitor's message to Fay's first reply, as both were stored.
    expect(seen!.medianFirstResponseMs).toBe(answered.at - asked.at);
    op.close();
    v.close();
  });

  it("figures from a known scripted history match, per date range", async () => {
    const admin = await signInAdmin();
    const carol = await newOperator(admin, "Carol");
    const dave = await newOperator(admin, "Dave");
    const ws = workspace();
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY + 1000;
    const tenDaysAgo = today - 10 * DAY;
    const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
    const seriesBefore = (await report(admin, today - 30 * DAY, today + DAY)).series;
    const ratingsOn = (series: typeof seriesBefore, t: number) => series.find((s) => s.day === dayOf(t))?.ratings ?? 0;
    // Ratings: Carol 5 and 3 today, 1 ten days ago; Dave shares the 3 (both took part) and has a 4 ten days ago.
    await ws.recordRating({
      id: `r1-${now}`,
      conversationId: "c1",
      rating: 5,
      comment: null,
      operatorIds: [carol.id],
      at: today,
    });
    await ws.recordRating({
      id: `r2-${now}`,
      conversationId: "c2",
      rating: 3,
      comment: "ok",
      operatorIds: [carol.id, dave.id],
      at: today,
    });
    await ws.recordRating({
      id: `r3-${now}`,
      conversationId: "c3",
      rating: 1,
      comment: null,
      operatorIds: [carol.id],
      at: tenDaysAgo,
    });
    await ws.recordRating({
      id: `r4-${now}`,
      conversationId: "c4",
      rating: 4,
      comment: null,
      operatorIds: [dave.id],
      at: tenDaysAgo,
    });
    // The same survey reported twice counts once.
    await ws.recordRating({
      id: `r1-${now}`,
      conversationId: "c1",
      rating: 5,
      comment: null,
      operatorIds: [carol.id],
      at: today,
    });
    const summary = {
      id: `scripted-${now}`,
      status: "assigned" as const,
      visitor: { id: "v", name: null, email: null },
      operators: [],
      preview: "",
      previewRole: "visitor" as const,
      lastAt: today,
      unread: 0,
      createdAt: today,
      version: 1,
    };
    await ws.upsertConversation(summary, [
      { kind: "joined", operatorId: carol.id, at: today, value: 1 },
      { kind: "joined", operatorId: carol.id, at: tenDaysAgo, value: 1 },
      { kind: "message", operatorId: carol.id, at: today, value: 3 },
      { kind: "message", operatorId: carol.id, at: tenDaysAgo, value: 2 },
      { kind: "first_response", operatorId: carol.id, at: today, value: 30_000 },
      { kind: "first_response", operatorId: carol.id, at: today, value: 90_000 },
      { kind: "first_response", operatorId: carol.id, at: today, value: 60_000 },
      { kind: "first_response", operatorId: carol.id, at: tenDaysAgo, value: 1_000_000 },
    ]);

    const day = await report(admin, today - 1000, today + 1000);
    const c1 = day.operators.find((o) => o.id === carol.id)!;
    expect(c1).toMatchObject({
      averageRating: 4,
      ratings: 2,
      distribution: [0, 0, 1, 0, 1],
      conversationsJoined: 1,
      messagesSent: 3,
      medianFirstResponseMs: 60_000,
    });
    const d1 = day.operators.find((o) => o.id === dave.id)!;
    expect(d1).toMatchObject({
      averageRating: 3,
      ratings: 1,
      distribution: [0, 0, 1, 0, 0],
      medianFirstResponseMs: null,
    });

    const month = await report(admin, today - 30 * DAY, today + DAY);
    const c30 = month.operators.find((o) => o.id === carol.id)!;
    expect(c30).toMatchObject({
      averageRating: 3,
      ratings: 3,
      distribution: [1, 0, 1, 0, 1],
      conversationsJoined: 2,
      messagesSent: 5,
      medianFirstResponseMs: 75_000,
    });
    expect(month.operators.find((o) => o.id === dave.id)).toMatchObject({ averageRating: 3.5, ratings: 2 });
    // Surveys, not operator shares: r1 (reported twice) and r2 today, r3 and r4 ten days ago.
    const shown = JSON.stringify(month.series.filter((s) => s.ratings > 0));
    expect(ratingsOn(month.series, today), shown).toBe(ratingsOn(seriesBefore, today) + 2);
    expect(ratingsOn(month.series, tenDaysAgo), shown).toBe(ratingsOn(seriesBefore, tenDaysAgo) + 2);

    // Custom range that excludes today.
    const past = await report(admin, tenDaysAgo - 1000, tenDaysAgo + DAY);
    expect(past.operators.find((o) => o.id === carol.id)).toMatchObject({
      ratings: 1,
      averageRating: 1,
      messagesSent: 2,
    });

    // CSV export carries the same figures.
    const csv = await fetchApp(`/api/reports/operators.csv?from=${today - 30 * DAY}&to=${today + DAY}`, {
      headers: { Cookie: admin },
    });
    expect(csv.headers.get("Content-Type")).toContain("text/csv");
    expect(csv.headers.get("Content-Disposition")).toMatch(/attachment; filename="operator-report-.*\.csv"/);
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toBe(
      "operator,average_rating,ratings,rated_1,rated_2,rated_3,rated_4,rated_5,conversations_joined,messages_sent,median_first_response_seconds",
    );
    expect(lines).toContain('"Carol","3","3","1","0","1","0","1","2","5","75"');
  });

  it("CSV cells cannot smuggle spreadsheet formulas", () => {
    const csv = reportCsv({
      from: 0,
      to: DAY,
      series: [],
      operators: [
        {
          id: "x",
          name: '=HYPERLINK("http://evil")',
          averageRating: null,
          ratings: 0,
          distribution: [0, 0, 0, 0, 0],
          conversationsJoined: 0,
          messagesSent: 0,
          medianFirstResponseMs: null,
        },
      ],
    });
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });

  it("stays correct with 10,000 conversations and 100,000 ratings (aggregates, not rescans)", async () => {
    const admin = await signInAdmin();
    const erin = await newOperator(admin, "Erin");
    const ws = workspace();
    const base = Math.floor(Date.now() / DAY) * DAY - 50 * DAY;
    // 100,000 ratings over 10,000 conversations and 50 days, credited to Erin: rating = 1 + (i % 5).
    for (let chunk = 0; chunk < 10; chunk++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, k) => {
          const c = chunk * 100 + k;
          return Promise.all(
            Array.from({ length: 10 }, (_, j) => {
              const i = c * 10 + j;
              return ws.recordRating({
                id: `bulk-${erin.id}-${i}`,
                conversationId: `conv-${i % 10000}`,
                rating: 1 + (i % 5),
                comment: null,
                operatorIds: [erin.id],
                at: base + (i % 50) * DAY,
              });
            }),
          );
        }),
      );
    }
    // The remaining 90,000 go straight into storage the same way recordRating aggregates them.
    await runInDurableObject(ws, (_o, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 10000 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
         INSERT INTO operator_daily (operator_id, day, ratings, rating_sum, r1, r2, r3, r4, r5)
         SELECT ?, ? + (i % 50), 1, 1 + (i % 5), (i % 5) = 0, (i % 5) = 1, (i % 5) = 2, (i % 5) = 3, (i % 5) = 4 FROM n WHERE true
         ON CONFLICT(operator_id, day) DO UPDATE SET ratings = ratings + 1, rating_sum = rating_sum + excluded.rating_sum,
           r1 = r1 + excluded.r1, r2 = r2 + excluded.r2, r3 = r3 + excluded.r3, r4 = r4 + excluded.r4, r5 = r5 + excluded.r5`,
        erin.id,
        Math.floor(base / DAY),
      );
    });
    const r = await report(admin, base, base + 50 * DAY);
    const row = r.operators.find((o) => o.id === erin.id)!;
    expect(row.ratings).toBe(100_000);
    expect(row.distribution).toEqual([20_000, 20_000, 20_000, 20_000, 20_000]);
    expect(row.averageRating).toBe(3);
  }, 120_000);
});

describe("retention", () => {
  it("is off by default; when on, the alarm deletes only conversations inactive past the limit", async () => {
    const admin = await signInAdmin();
    const ws = workspace();
    expect((await ws.getSettings()).retentionDays).toBe(0);
    const old = await newVisitorSession();
    const fresh = await newVisitorSession();
    for (const s of [old, fresh]) {
      const v = await visitorSocket(s);
      await v.next("welcome");
      await say(v, "hello");
      await indexRow(s.conversationId);
      v.close();
    }
    // Off: the alarm, if any, deletes nothing.
    await runDurableObjectAlarm(ws);
    expect((await fetchApp(`/api/conversations/${old.conversationId}`, { headers: { Cookie: admin } })).status).toBe(
      200,
    );

    const put = await fetchApp("/api/settings", { ...json({ retentionDays: 30 }, { Cookie: admin }), method: "PUT" });
    expect(((await put.json()) as { retentionDays: number }).retentionDays).toBe(30);
    await runInDurableObject(ws, (_o, state) => {
      state.storage.sql.exec(
        "UPDATE conversations SET last_at = ? WHERE id = ?",
        Date.now() - 31 * DAY,
        old.conversationId,
      );
    });
    expect(await runDurableObjectAlarm(ws)).toBe(true);
    expect((await fetchApp(`/api/conversations/${old.conversationId}`, { headers: { Cookie: admin } })).status).toBe(
      404,
    );
    expect((await fetchApp(`/api/conversations/${fresh.conversationId}`, { headers: { Cookie: admin } })).status).toBe(
      200,
    );
    const bad = await fetchApp("/api/settings", { ...json({ retentionDays: -1 }, { Cookie: admin }), method: "PUT" });
    expect(bad.status).toBe(400);
    await fetchApp("/api/settings", { ...json({ retentionDays: 0 }, { Cookie: admin }), method: "PUT" });
  });

  it("a deleted conversation's rating stays in the report with no text and no link to the visitor", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hi");
    await join(admin, session.conversationId);
    await leave(admin, session.conversationId);
    const st = await v.until("state", (f) => f.state.survey !== null);
    v.send({ type: "rate", surveyId: st.state.survey!.id, rating: 2, comment: "my secret complaint" });
    await v.until("state", (f) => f.state.survey === null);
    v.close();
    await fetchApp(`/api/conversations/${session.conversationId}`, { method: "DELETE", headers: { Cookie: admin } });
    const row = await runInDurableObject(workspace(), (_o, state) =>
      state.storage.sql
        .exec<{ rating: number; comment: string | null; conversation_id: string | null }>(
          "SELECT rating, comment, conversation_id FROM ratings WHERE id = ?",
          st.state.survey!.id,
        )
        .one(),
    );
    expect(row).toEqual({ rating: 2, comment: null, conversation_id: null });
  });
});
