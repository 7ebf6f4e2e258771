/**
 * The conversation's small facts (the `meta` key/value table), read and
 * written as typed fields: `meta.visitorEmail`, `meta.started = true`,
 * `meta.waitingSince = null` (deletes). Each storage key and its type are
 * named once, in `FIELDS`; no other module spells a key.
 *
 * Values are stored as text exactly as they always were (numbers in decimal,
 * booleans as "1"/"0", objects as JSON), so conversations stored before
 * these accessors read the same. Reads come from the hot copy in memory
 * (see context.ts); writes go through to SQLite first.
 */
import type { ClientInfo } from "../lib/client";
import type { ConversationStatus, OperatorRef } from "../protocol";

/** A survey offer as stored: who it credits and where it stands. */
export interface StoredSurvey {
  id: string;
  operators: OperatorRef[];
  state: "pending" | "answered" | "dismissed";
}

/** What the survey email step decided for survey `survey`. */
export interface SurveyMailOutcome {
  survey: string;
  outcome: "sent" | "off" | "failed";
}

/** How one field is stored: its key, how a stored text (or its absence) reads, and how a value is written. */
interface Field<T> {
  key: string;
  read(stored: string | undefined): T;
  /** The text to store, or null to delete the key. */
  write(value: T): string | null;
}

const text = (key: string): Field<string | null> => ({ key, read: (s) => s ?? null, write: (v) => v });
/** A count that reads 0 when absent. */
const count = (key: string): Field<number> => ({ key, read: (s) => (s === undefined ? 0 : Number(s)), write: String });
const time = (key: string): Field<number | null> => ({
  key,
  read: (s) => (s === undefined ? null : Number(s)),
  write: (v) => (v === null ? null : String(v)),
});
/** A yes/no that reads false when absent. */
const flag = (key: string): Field<boolean> => ({ key, read: (s) => s === "1", write: (v) => (v ? "1" : "0") });
/** A yes/no where "never said" (null) differs from no. */
const answer = (key: string): Field<boolean | null> => ({
  key,
  read: (s) => (s === undefined ? null : s === "1"),
  write: (v) => (v === null ? null : v ? "1" : "0"),
});
const json = <T>(key: string): Field<T | null> => ({
  key,
  read: (s) => (s === undefined ? null : (JSON.parse(s) as T)),
  write: (v) => (v === null ? null : JSON.stringify(v)),
});
const status = (key: string): Field<ConversationStatus> => ({
  key,
  read: (s) => (s as ConversationStatus | undefined) ?? "unassigned",
  write: (v) => v,
});

/** Every meta key, once. */
const FIELDS = {
  // Identity, set on first contact; `id`, `workspace` and `deleted` are all a deleted conversation keeps.
  id: text("id"),
  workspace: text("workspace"),
  visitorId: text("visitor_id"),
  createdAt: count("created_at"),
  deleted: flag("deleted"),
  // Assignment: the visitor has written (`started`), where it stands, since when it waits for a reply.
  started: flag("started"),
  status: status("status"),
  waitingSince: time("waiting_since"),
  lastReadSeq: count("last_read_seq"),
  // The visitor, as they or the site told us, and as their requests showed.
  visitorName: text("visitor_name"),
  visitorEmail: text("visitor_email"),
  identityVerified: answer("identity_verified"),
  // What the site last vouched for (setUser with a valid hash): the badge shows only while these are what is shown.
  verifiedName: text("verified_name"),
  verifiedEmail: text("verified_email"),
  ip: text("ip"),
  userAgent: text("user_agent"),
  geo: json<NonNullable<ClientInfo["geo"]>>("geo"),
  lastSeen: time("last_seen"),
  referrer: text("referrer"),
  pageViewsDropped: count("page_views_dropped"),
  // The satisfaction survey.
  survey: json<StoredSurvey>("survey"),
  // What became of the survey email for a survey (sent, off in settings, or failed): one outcome per survey.
  surveyMail: json<SurveyMailOutcome>("survey_mail"),
  // The email channel: the thread token of the Reply-To address, and the sender replies go out as.
  emailToken: text("email_token"),
  emailFrom: text("email_from"),
  emailName: text("email_name"),
  // The index report: the last message handed to message.created webhooks, and whether a change still waits to be
  // reported (written with the change, cleared by a report that leaves nothing behind; null: stored before the mark).
  reportedSeq: count("reported_seq"),
  reportPending: answer("report_pending"),
} satisfies Record<string, Field<unknown>>;

/** The conversation's meta as typed, writable fields. */
export type Meta = { -readonly [K in keyof typeof FIELDS]: (typeof FIELDS)[K] extends Field<infer T> ? T : never };

/**
 * Typed fields over the meta table. `values` is the in-memory copy of the
 * table (fetched on each access: it is rebuilt after an eviction or a
 * rolled-back transaction). A write that changes nothing costs nothing.
 */
export function createMeta(sql: SqlStorage, values: () => Map<string, string>): Meta {
  return new MetaFields(sql, values) as unknown as Meta;
}

/**
 * The fields' accessors live once, on this class's prototype (enumerable, so
 * `for…in` lists every field): each woken conversation makes one small
 * object, not a getter and a setter per field. At 2,000 conversations, which
 * hibernate and wake all the time, those closures were garbage the old
 * space filled with (README, Performance).
 */
class MetaFields {
  readonly #sql: SqlStorage;
  readonly #values: () => Map<string, string>;

  constructor(sql: SqlStorage, values: () => Map<string, string>) {
    this.#sql = sql;
    this.#values = values;
  }

  static {
    for (const [name, field] of Object.entries(FIELDS) as [keyof Meta, Field<unknown>][]) {
      Object.defineProperty(MetaFields.prototype, name, {
        enumerable: true,
        get(this: MetaFields) {
          return field.read(this.#values().get(field.key));
        },
        set(this: MetaFields, value: unknown) {
          store(this.#sql, this.#values(), field.key, field.write(value));
        },
      });
    }
  }
}

/** The fields that always hold a value (no null): a trigger can write them (see `writtenByStorage`). */
type Valued = { [K in keyof Meta]: null extends Meta[K] ? never : K }[keyof Meta];

/**
 * Records in the hot copy a field that SQLite has already written itself (a
 * trigger; see schema.ts), so that reads agree with storage without a
 * second write. A field with a value is written as text, never deleted.
 */
export function writtenByStorage<K extends Valued>(values: Map<string, string>, name: K, value: Meta[K]): void {
  const field = FIELDS[name] as Field<Meta[K]>;
  values.set(field.key, field.write(value) as string);
}

function store(sql: SqlStorage, values: Map<string, string>, key: string, text: string | null): void {
  if (text === null) {
    if (!values.has(key)) return;
    sql.exec("DELETE FROM meta WHERE key = ?", key);
    values.delete(key);
    return;
  }
  if (values.get(key) === text) return;
  sql.exec(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    key,
    text,
  );
  values.set(key, text);
}
