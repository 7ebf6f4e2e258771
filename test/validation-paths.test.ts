/**
 * One rule for the text people send, whichever way it arrives. The same
 * hostile text (control characters, NUL, ANSI escapes, CR LF, bidi
 * overrides, HTML, padding, the longest allowed and one character more) goes
 * over the visitor's socket, an operator's socket, `POST /api/v1/…/messages`
 * and inbound email, and is stored identically: control characters stripped,
 * line ends as LF, trimmed, everything visible kept as written; what is too
 * long or empty once cleaned is refused everywhere and stores nothing. Names
 * (visitor socket, panel PATCH, the site's setUser) and survey comments
 * (visitor socket, the emailed survey page) follow the same rule.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signToken } from "../worker/lib/crypto";
import type { Message, ServerFrame, VisitorInfo, VisitorSession } from "../worker/protocol";
import { LIMITS } from "../worker/protocol";
import {
  fetchApp,
  inboundMail,
  join,
  json,
  leave,
  operatorSocket,
  signInAdmin,
  visitorSocket,
  newVisitorSession,
  type TestSocket,
} from "./helpers";

/** Hostile inputs and what must be stored for each, on every path. */
const ACCEPTED: Record<string, { sent: string; stored: string }> = {
  controls: {
    sent: "\u0007bell \u0000nul \u001b[31mred\u001b[0m \u0008back\u007fdel \u000bvt\u000cff end",
    stored: "bell nul [31mred[0m backdel vtff end",
  },
  lineEnds: { sent: "first\r\nsecond\rthird\n\tindented", stored: "first\nsecond\nthird\n\tindented" },
  bidi: {
    sent: "invoice \u202Egpj.exe\u202C and \u2066isolated\u2069 \u200Fmark",
    stored: "invoice \u202Egpj.exe\u202C and \u2066isolated\u2069 \u200Fmark",
  },
  html: {
    sent: `<img src=x onerror="window.__pwned=1"><script>alert(1)</script> &amp; <b>bold</b>`,
    stored: `<img src=x onerror="window.__pwned=1"><script>alert(1)</script> &amp; <b>bold</b>`,
  },
  padded: { sent: " \u0007 \u0000  padded text \r\n \u0000", stored: "padded text" },
  // The limit counts what is stored: 4,000 characters plus stripped controls fit.
  longest: {
    sent: `\u0007${"x".repeat(LIMITS.messageChars / 2)}\u0000${"x".repeat(LIMITS.messageChars / 2)}\u0007`,
    stored: "x".repeat(LIMITS.messageChars),
  },
};

/** Inputs every path refuses, storing nothing. */
const REFUSED: Record<string, string> = {
  onlyControls: "\u0007\u0000 \u001b \r\n\u007f",
  tooLong: "y".repeat(LIMITS.messageChars + 1),
};

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function apiToken(admin: string): Promise<string> {
  const res = await fetchApp("/api/v1/tokens", json({ name: "validation paths", scope: "write" }, { Cookie: admin }));
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function history(admin: string, id: string): Promise<Message[]> {
  const res = await fetchApp(`/api/v1/conversations/${id}/messages?limit=${LIMITS.historyPageMax}`, {
    headers: { Cookie: admin },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: Message[] }).messages;
}

/** The ack or the error the socket answered a send with (frames are kept, so an earlier answer is found too). */
async function answerTo(s: TestSocket<ServerFrame>, clientId: string): Promise<ServerFrame> {
  const match = (f: ServerFrame) => (f.type === "ack" || f.type === "error") && f.clientId === clientId;
  await s.settled(() => s.frames.some(match));
  const frame = s.frames.find(match);
  expect(
    frame,
    `no ack or error for ${clientId}; frames: ${JSON.stringify(s.frames.map((f) => f.type))}`,
  ).toBeDefined();
  return frame!;
}

/** An inbound mail: text/plain, UTF-8, 8bit, so every character of `body` arrives as written. */
function mail(from: string, subject: string, body: string) {
  return inboundMail(
    `From: ${from}\r\nTo: support@microchat.example\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${crypto.randomUUID()}@example.org>\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}\r\n`,
    from,
  );
}

describe("one validation rule on every path", () => {
  it("the same hostile message text is stored identically over the visitor socket, an operator socket and /api/v1", async () => {
    const admin = await signInAdmin();
    const token = await apiToken(admin);
    const session = await newVisitorSession();
    const id = session.conversationId;
    const visitor = await visitorSocket(session);
    await visitor.next("welcome");
    // The visitor writes first (the conversation exists from then on), then the operator joins.
    const sent = new Map<string, { path: string; key: string }>();
    const send = async (s: TestSocket<ServerFrame>, path: string, key: string, text: string) => {
      const clientId = `${path}-${key}`;
      sent.set(clientId, { path, key });
      s.send({ type: "send", clientId, text });
      return answerTo(s, clientId);
    };
    for (const [key, { sent: text }] of Object.entries(ACCEPTED)) {
      const answer = await send(visitor, "visitor", key, text);
      expect(answer.type, `visitor ${key}: ${JSON.stringify(answer)}`).toBe("ack");
    }
    expect((await join(admin, id)).status).toBe(200);
    const operator = await operatorSocket(admin, id);
    await operator.next("welcome");
    for (const [key, { sent: text }] of Object.entries(ACCEPTED)) {
      const answer = await send(operator, "operator", key, text);
      expect(answer.type, `operator ${key}: ${JSON.stringify(answer)}`).toBe("ack");
    }
    for (const [key, { sent: text }] of Object.entries(ACCEPTED)) {
      const res = await fetchApp(
        `/api/v1/conversations/${id}/messages`,
        json({ text, clientId: `api-${key}` }, bearer(token)),
      );
      expect(res.status, `api ${key}: ${await res.clone().text()}`).toBe(201);
    }

    // Refused on every path, each in its own protocol, and nothing stored.
    for (const [key, text] of Object.entries(REFUSED)) {
      const expected = key === "tooLong" ? "too_large" : "bad_frame";
      for (const [path, s] of [
        ["visitor", visitor],
        ["operator", operator],
      ] as const) {
        const answer = await send(s, path, key, text);
        expect(answer, `${path} ${key}`).toMatchObject({ type: "error", code: expected, clientId: `${path}-${key}` });
      }
      const res = await fetchApp(
        `/api/v1/conversations/${id}/messages`,
        json({ text, clientId: `api-${key}` }, bearer(token)),
      );
      expect(res.status, `api ${key}`).toBe(400);
      expect(await res.json(), `api ${key}`).toMatchObject({ error: { code: "validation_error" } });
    }

    const stored = new Map((await history(admin, id)).map((m) => [m.clientId, m.text]));
    for (const path of ["visitor", "operator", "api"]) {
      for (const [key, { stored: want }] of Object.entries(ACCEPTED)) {
        expect(stored.get(`${path}-${key}`), `${path} ${key} as stored`).toBe(want);
      }
      for (const key of Object.keys(REFUSED)) {
        expect(stored.has(`${path}-${key}`), `${path} ${key} must not be stored`).toBe(false);
      }
    }
    visitor.close();
    operator.close();
  });

  it("an inbound mail's text is stored by the same rule as a message typed in the widget", async () => {
    const admin = await signInAdmin();
    const worker = (await import("../worker/index")).default;
    // Mail has its own length rule (long mail is cut, saying how much) and CR LF line ends, so those cases stay out.
    for (const key of ["controls", "bidi", "html", "padded"]) {
      const from = `hostile.${key}.${Date.now()}@example.org`;
      const { message, rejected } = mail(from, `Case ${key}`, ACCEPTED[key]!.sent);
      await worker.email(message, env);
      expect(rejected, `mail ${key} refused`).toEqual([]);
      const list = await fetchApp("/api/conversations?view=all&limit=200", { headers: { Cookie: admin } });
      const rows = ((await list.json()) as { conversations: { id: string; visitor: { email: string | null } }[] })
        .conversations;
      const row = rows.find((c) => c.visitor.email === from);
      expect(row, `conversation of ${from}`).toBeDefined();
      const messages = await history(admin, row!.id);
      expect(
        messages.map((m) => m.text),
        `mail ${key} as stored`,
      ).toEqual([ACCEPTED[key]!.stored]);
    }
  });

  it("a visitor's name is cleaned the same way from the widget socket, the panel's PATCH and the site's setUser", async () => {
    const admin = await signInAdmin();
    const sent = "\u0007Ada\u0000  \u202ELovelace\r\n<b>x</b>\t ";
    const stored = "Ada \u202ELovelace <b>x</b>";
    const nameOf = async (id: string) => {
      const res = await fetchApp(`/api/conversations/${id}/visitor`, { headers: { Cookie: admin } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { visitor: VisitorInfo }).visitor.name;
    };
    const started = async (): Promise<{ session: VisitorSession; v: TestSocket<ServerFrame> }> => {
      const session = await newVisitorSession();
      const v = await visitorSocket(session);
      await v.next("welcome");
      v.send({ type: "send", clientId: "first", text: "hello" });
      await answerTo(v, "first");
      return { session, v };
    };

    const bySocket = await started();
    bySocket.v.send({ type: "profile", name: sent });
    await bySocket.v.until("state", (f) => f.state.visitor.name !== null);
    expect(await nameOf(bySocket.session.conversationId), "socket profile").toBe(stored);

    const byPanel = await started();
    const patch = await fetchApp(`/api/conversations/${byPanel.session.conversationId}/visitor`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", Cookie: admin },
      body: JSON.stringify({ name: sent }),
    });
    expect(patch.status, await patch.clone().text()).toBe(200);
    expect(await nameOf(byPanel.session.conversationId), "panel PATCH").toBe(stored);

    const bySite = await started();
    const identify = await fetchApp("/api/visitor/identify", {
      method: "POST",
      headers: { "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site" },
      body: JSON.stringify({ siteKey: "demo", token: bySite.session.token, user: { id: "u-1", name: sent } }),
    });
    expect(identify.status, await identify.clone().text()).toBe(200);
    expect(await nameOf(bySite.session.conversationId), "setUser").toBe(stored);

    // Nothing but control characters is no name: refused on the socket and by the panel alike.
    bySocket.v.send({ type: "profile", name: "\u0007\u0000" });
    expect((await bySocket.v.next("error")).code).toBe("bad_frame");
    const empty = await fetchApp(`/api/conversations/${byPanel.session.conversationId}/visitor`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", Cookie: admin },
      body: JSON.stringify({ name: "\u0007\u0000" }),
    });
    expect(empty.status).toBe(400);
    expect(await nameOf(bySocket.session.conversationId)).toBe(stored);
    expect(await nameOf(byPanel.session.conversationId)).toBe(stored);
    for (const { v } of [bySocket, byPanel, bySite]) v.close();
  });

  it("a survey comment is stored the same from the widget socket and from the emailed survey page", async () => {
    const admin = await signInAdmin();
    const sent = "\u0007Great\u0000 help,\r\nthanks \u202E<i>!</i> ";
    const stored = "Rated 5/5: Great help,\nthanks \u202E<i>!</i>";
    const surveyed = async () => {
      const session = await newVisitorSession();
      const v = await visitorSocket(session);
      await v.next("welcome");
      v.send({ type: "send", clientId: "first", text: "help please" });
      await answerTo(v, "first");
      expect((await join(admin, session.conversationId)).status).toBe(200);
      expect((await leave(admin, session.conversationId)).status).toBe(200);
      const offered = await v.until("state", (f) => f.state.survey !== null);
      return { session, v, surveyId: offered.state.survey!.id };
    };
    const rated = async (id: string) =>
      (await history(admin, id)).filter((m) => m.event === "rated").map((m) => m.text);

    const bySocket = await surveyed();
    bySocket.v.send({
      type: "rate",
      surveyId: bySocket.surveyId,
      rating: 5,
      comment: "c".repeat(LIMITS.commentChars + 1),
    });
    expect((await bySocket.v.next("error")).code, "too long a comment on the socket").toBe("too_large");
    bySocket.v.send({ type: "rate", surveyId: bySocket.surveyId, rating: 5, comment: sent });
    await bySocket.v.until("state", (f) => f.state.survey === null);
    expect(await rated(bySocket.session.conversationId), "socket").toEqual([stored]);

    const byPage = await surveyed();
    const token = await signToken(env.SESSION_SECRET, {
      t: "rate",
      c: byPage.session.conversationId,
      s: byPage.surveyId,
      exp: Date.now() + 60_000,
    });
    const post = (comment: string) => {
      const form = new FormData();
      form.set("rating", "5");
      form.set("comment", comment);
      return fetchApp(`/rate/${token}`, { method: "POST", body: form });
    };
    expect((await post("c".repeat(LIMITS.commentChars + 1))).status, "too long a comment on the page").toBe(400);
    expect(await rated(byPage.session.conversationId), "nothing stored for the refused comment").toEqual([]);
    expect((await post(sent)).status).toBe(200);
    expect(await rated(byPage.session.conversationId), "survey page").toEqual([stored]);
    for (const { v } of [bySocket, byPage]) v.close();
  });

  it("every JSON body is read by one rule: its type, its size, JSON, an object, known fields; each refusal says which", async () => {
    const admin = await signInAdmin();
    const post = (path: string, body: string, headers: Record<string, string>) =>
      fetchApp(path, { method: "POST", headers: { Cookie: admin, ...headers }, body });
    const refusal = async (res: Response) => ({
      status: res.status,
      ...((await res.json()) as { error: { code: string; message: string } }).error,
    });
    const JSON_TYPE = { "Content-Type": "application/json" };
    const operator = JSON.stringify({
      name: "Nina",
      email: `nina.${Date.now()}@example.com`,
      password: "long enough pw 1",
    });
    // A panel route takes JSON only, whatever the body says.
    expect(await refusal(await post("/api/operators", operator, { "Content-Type": "text/plain" }))).toEqual({
      status: 415,
      code: "unsupported_media_type",
      message: "Send JSON (Content-Type: application/json)",
    });
    expect(await refusal(await post("/api/operators", operator, {}))).toMatchObject({ status: 415 });
    // The widget loader's calls may come as text/plain (a simple request, or sendBeacon), and nothing else.
    const session = JSON.stringify({ siteKey: "demo" });
    expect((await post("/api/visitor/session", session, { "Content-Type": "text/plain;charset=UTF-8" })).status).toBe(
      201,
    );
    expect((await post("/api/visitor/session", session, { "Content-Type": "application/xml" })).status).toBe(415);
    // Size: declared, and as read.
    const big = JSON.stringify({ name: "x".repeat(70 * 1024) });
    expect(await refusal(await post("/api/operators", big, JSON_TYPE))).toMatchObject({
      status: 413,
      code: "too_large",
      message: expect.stringMatching(/^Body is larger than \d+ bytes$/),
    });
    // Not JSON, JSON but not an object, an object with a field nobody asked for, a field of the wrong kind.
    expect(await refusal(await post("/api/operators", "{name:", JSON_TYPE))).toEqual({
      status: 400,
      code: "bad_json",
      message: "Body is not valid JSON",
    });
    for (const notObject of ["[]", "null", "42", '"text"']) {
      expect(await refusal(await post("/api/operators", notObject, JSON_TYPE)), notObject).toEqual({
        status: 400,
        code: "bad_request",
        message: "Body must be a JSON object",
      });
    }
    // A body that names its fields (Settings) refuses any other, naming it.
    const settings = await fetchApp("/api/settings", {
      method: "PUT",
      headers: { Cookie: admin, ...JSON_TYPE },
      body: JSON.stringify({ surveyByEmail: true, superpower: true }),
    });
    expect(await refusal(settings)).toEqual({
      status: 400,
      code: "unknown_field",
      message: "Unknown field: superpower",
    });
    const wrongKind = JSON.stringify({ ...JSON.parse(operator), name: 42 });
    expect(await refusal(await post("/api/operators", wrongKind, JSON_TYPE))).toMatchObject({
      status: 400,
      code: "bad_request",
    });
    // And the right body is taken.
    expect((await post("/api/operators", operator, JSON_TYPE)).status).toBe(201);
  });
});
