/**
 * The conversation's meta table is a stored format: every conversation ever
 * written keeps its facts as text under these keys, and reads them back
 * through the typed fields of worker/conversation/meta.ts. A key renamed or a
 * value written differently would silently forget what older conversations
 * hold, so the layout is pinned here, key by key, both ways.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConversationContext } from "../worker/conversation/context";

/** Runs `fn` on a fresh conversation object's storage (schema migrated by its constructor), with its own context. */
async function onFreshStorage<T>(fn: (c: ConversationContext, sql: SqlStorage) => T): Promise<T> {
  const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(`meta-${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_instance, state) =>
    fn(new ConversationContext(state, () => env), state.storage.sql),
  );
}

/** Every field as read, listed as `for…in` lists them (the accessors are the prototype's, shared by every conversation). */
function fieldsOf(meta: object): Record<string, unknown> {
  const all: Record<string, unknown> = {};
  for (const name in meta) all[name] = (meta as Record<string, unknown>)[name];
  return all;
}

const rows = (sql: SqlStorage) =>
  Object.fromEntries(
    sql
      .exec<{ key: string; value: string }>("SELECT key, value FROM meta ORDER BY key")
      .toArray()
      .map((r) => [r.key, r.value]),
  );

/** Every field as stored text, the way conversations have always stored them. */
const STORED = {
  id: "conv-1",
  workspace: "demo",
  visitor_id: "visitor-1",
  created_at: "1700000000000",
  deleted: "0",
  started: "1",
  status: "active",
  waiting_since: "1700000000500",
  last_read_seq: "7",
  visitor_name: "Ada",
  visitor_email: "ada@example.org",
  identity_verified: "1",
  verified_name: "Ada L.",
  verified_email: "ada@example.net",
  ip: "192.0.2.1",
  user_agent: "Mozilla/5.0",
  geo: '{"country":"NO","city":"Oslo"}',
  last_seen: "1700000001000",
  referrer: "https://example.com/",
  page_views_dropped: "3",
  survey: '{"id":"s1","operators":[{"id":"o1","name":"Olga"}],"state":"pending"}',
  survey_mail: '{"survey":"s1","outcome":"sent"}',
  email_token: "tok",
  email_from: "support@microchat.example",
  email_name: "Support",
  reported_seq: "6",
  report_pending: "1",
};

/** The same facts through the typed fields. */
const TYPED = {
  id: "conv-1",
  workspace: "demo",
  visitorId: "visitor-1",
  createdAt: 1700000000000,
  deleted: false,
  started: true,
  status: "active",
  waitingSince: 1700000000500,
  lastReadSeq: 7,
  visitorName: "Ada",
  visitorEmail: "ada@example.org",
  identityVerified: true,
  verifiedName: "Ada L.",
  verifiedEmail: "ada@example.net",
  ip: "192.0.2.1",
  userAgent: "Mozilla/5.0",
  geo: { country: "NO", city: "Oslo" },
  lastSeen: 1700000001000,
  referrer: "https://example.com/",
  pageViewsDropped: 3,
  survey: { id: "s1", operators: [{ id: "o1", name: "Olga" }], state: "pending" },
  surveyMail: { survey: "s1", outcome: "sent" },
  emailToken: "tok",
  emailFrom: "support@microchat.example",
  emailName: "Support",
  reportedSeq: 6,
  reportPending: true,
};

describe("the conversation's meta table", () => {
  it("reads every key as it was always stored", async () => {
    const read = await onFreshStorage((c, sql) => {
      for (const [key, value] of Object.entries(STORED))
        sql.exec("INSERT INTO meta (key, value) VALUES (?, ?)", key, value);
      return fieldsOf(c.meta);
    });
    expect(read).toEqual(TYPED);
  });

  it("writes every field as that same text, and a field set to nothing deletes its key", async () => {
    const { written, cleared } = await onFreshStorage((c, sql) => {
      Object.assign(c.meta, TYPED);
      const written = rows(sql);
      Object.assign(c.meta, {
        waitingSince: null,
        identityVerified: null,
        visitorName: null,
        geo: null,
        survey: null,
        lastSeen: null,
      });
      return { written, cleared: rows(sql) };
    });
    expect(written).toEqual(STORED);
    const gone = ["waiting_since", "identity_verified", "visitor_name", "geo", "survey", "last_seen"];
    expect(cleared).toEqual(Object.fromEntries(Object.entries(STORED).filter(([k]) => !gone.includes(k))));
  });

  it("an absent key reads as its field's default; a no and a 'never said' are stored apart", async () => {
    const { empty, no, yes } = await onFreshStorage((c, sql) => {
      const empty = fieldsOf(c.meta);
      c.meta.identityVerified = false;
      c.meta.deleted = true;
      c.meta.started = false;
      const no = { rows: rows(sql), verified: c.meta.identityVerified };
      c.meta.identityVerified = true;
      return { empty, no, yes: rows(sql).identity_verified };
    });
    expect(empty).toEqual({
      id: null,
      workspace: null,
      visitorId: null,
      createdAt: 0,
      deleted: false,
      started: false,
      status: "unassigned",
      waitingSince: null,
      lastReadSeq: 0,
      visitorName: null,
      visitorEmail: null,
      identityVerified: null,
      verifiedName: null,
      verifiedEmail: null,
      ip: null,
      userAgent: null,
      geo: null,
      lastSeen: null,
      referrer: null,
      pageViewsDropped: 0,
      survey: null,
      surveyMail: null,
      emailToken: null,
      emailFrom: null,
      emailName: null,
      reportedSeq: 0,
      reportPending: null,
    });
    expect(no).toEqual({ rows: { identity_verified: "0", deleted: "1", started: "0" }, verified: false });
    expect(yes).toBe("1");
  });
});
