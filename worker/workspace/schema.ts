/**
 * Schema of the Workspace Durable Object's SQLite storage: numbered,
 * append-only migrations (run by `migrate` in the object's constructor).
 * A shipped migration is never edited; a change is a new entry at the end.
 */
import type { Migration } from "../schema/migrate";

/** Every migration of the workspace's storage, in order. */
export const workspaceMigrations: readonly Migration[] = [
  {
    id: 1,
    name: "operators, sessions, conversation index",
    sql: `
      CREATE TABLE operators (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        admin INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        operator_id TEXT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_operator ON sessions(operator_id);
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        visitor_name TEXT,
        visitor_email TEXT,
        operators TEXT NOT NULL DEFAULT '[]',
        preview TEXT NOT NULL DEFAULT '',
        preview_role TEXT NOT NULL DEFAULT 'visitor',
        last_at INTEGER NOT NULL,
        unread INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX conversations_status ON conversations(status, last_at DESC);
      CREATE INDEX conversations_last ON conversations(last_at DESC);
      CREATE TABLE assignments (
        conversation_id TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        PRIMARY KEY (operator_id, conversation_id)
      );
      CREATE INDEX assignments_conversation ON assignments(conversation_id);
      CREATE TABLE index_versions (id TEXT PRIMARY KEY, version INTEGER NOT NULL);
    `,
  },
  {
    id: 2,
    name: "settings and email threading",
    sql: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE email_threads (
        conversation_id TEXT PRIMARY KEY,
        visitor_id TEXT NOT NULL,
        sender TEXT NOT NULL COLLATE NOCASE,
        token TEXT NOT NULL UNIQUE
      );
      CREATE INDEX email_threads_sender ON email_threads(sender);
      CREATE TABLE email_message_ids (message_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL);
    `,
  },
  {
    id: 3,
    name: "ratings and operator report aggregates",
    sql: `
      CREATE TABLE ratings (
        id TEXT PRIMARY KEY,
        conversation_id TEXT,
        rating INTEGER NOT NULL,
        comment TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX ratings_conversation ON ratings(conversation_id);
      CREATE TABLE operator_daily (
        operator_id TEXT NOT NULL,
        day INTEGER NOT NULL,
        ratings INTEGER NOT NULL DEFAULT 0,
        rating_sum INTEGER NOT NULL DEFAULT 0,
        r1 INTEGER NOT NULL DEFAULT 0,
        r2 INTEGER NOT NULL DEFAULT 0,
        r3 INTEGER NOT NULL DEFAULT 0,
        r4 INTEGER NOT NULL DEFAULT 0,
        r5 INTEGER NOT NULL DEFAULT 0,
        joined INTEGER NOT NULL DEFAULT 0,
        messages INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (operator_id, day)
      );
      CREATE INDEX operator_daily_day ON operator_daily(day);
      CREATE TABLE first_responses (operator_id TEXT NOT NULL, at INTEGER NOT NULL, ms INTEGER NOT NULL);
      CREATE INDEX first_responses_operator ON first_responses(operator_id, at);
    `,
  },
  {
    id: 4,
    name: "operator presence status",
    sql: `ALTER TABLE operators ADD COLUMN away INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    id: 5,
    name: "API tokens",
    sql: `
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        operator_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
    `,
  },
  {
    id: 6,
    name: "webhooks and their deliveries",
    sql: `
      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        webhook_id TEXT NOT NULL,
        event TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        response_status INTEGER,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
      CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, created_at DESC);
    `,
  },
  {
    id: 7,
    name: "verified site users",
    sql: `CREATE TABLE verified_users (user_id TEXT PRIMARY KEY, visitor_id TEXT NOT NULL, conversation_id TEXT NOT NULL);`,
  },
  {
    id: 8,
    name: "conversations by visitor email",
    // The visitor panel lists a contact's other conversations by address (and erasure finds them).
    sql: `CREATE INDEX conversations_email ON conversations(visitor_email COLLATE NOCASE, last_at DESC);`,
  },
  {
    id: 9,
    name: "settings values as JSON",
    // Settings were stored as bare text ("1"/"0" for a yes/no, digits for a
    // number); from here on each value is JSON, read and written only through
    // the typed accessors in settings.ts. This converts what older versions stored.
    sql: `
      UPDATE settings SET value = CASE
        WHEN key = 'survey_by_email' THEN CASE WHEN value = '1' THEN 'true' ELSE 'false' END
        WHEN key IN ('retention_days', 'retention_next_at') THEN CAST(CAST(value AS INTEGER) AS TEXT)
        ELSE json_quote(value)
      END;
    `,
  },
  {
    id: 10,
    name: "API token scopes and expiry",
    // Tokens made before scopes existed could do everything their admin could;
    // they keep that (scope admin) and never expire, until an admin revokes them.
    sql: `
      ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
      ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
    `,
  },
  {
    id: 11,
    name: "audit log",
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor_id TEXT,
        actor_name TEXT NOT NULL,
        via_token TEXT,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT
      );
      CREATE INDEX audit_log_at ON audit_log(at);
    `,
  },
  {
    id: 12,
    name: "session idle time",
    // Sessions open at the upgrade count as used now: they get a full idle period, not an instant sign-out.
    sql: `
      ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
      UPDATE sessions SET last_seen_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
    `,
  },
  {
    id: 13,
    name: "sign-in throttling",
    // Failed sign-ins in a row per key ("account:<email>" or "network:<ip or /64>"); see login-throttle.ts.
    // IF NOT EXISTS: safe to run again over a schema that has it (test/workspace.test.ts replays from 9).
    sql: `
      CREATE TABLE IF NOT EXISTS login_failures (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS login_failures_last ON login_failures(last_at);
    `,
  },
  {
    id: 14,
    name: "conversation sockets opened with each operator session",
    // So ending a session (sign-out, removal) closes its sockets in every
    // conversation it opened one on (operator-sockets.ts). Idempotent, so a
    // test that rewinds to an earlier migration can run it again.
    sql: `
      CREATE TABLE IF NOT EXISTS operator_sockets (
        session_id TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        PRIMARY KEY (session_id, conversation_id)
      );
      CREATE INDEX IF NOT EXISTS operator_sockets_operator ON operator_sockets(operator_id);
    `,
  },
  {
    id: 15,
    name: "word of ended sessions, kept until each conversation has heard it",
    // The outbox of operator-sockets.ts: one row per conversation still to be told that a session (or all of an
    // operator's sessions, session_id NULL) ended; the alarm retries until it has heard, or `until` passed.
    sql: `
      CREATE TABLE IF NOT EXISTS socket_ends (
        id INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        session_id TEXT,
        why TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,
        until INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS socket_ends_next ON socket_ends(next_at);
    `,
  },
  {
    id: 16,
    name: "visitors told live whether anyone can answer",
    // visitor-availability.ts: the conversations whose visitor has a widget open, and what they were last told.
    sql: `
      CREATE TABLE IF NOT EXISTS availability_watchers (
        conversation_id TEXT PRIMARY KEY,
        watch INTEGER NOT NULL DEFAULT 0,
        retry_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS availability_watchers_retry ON availability_watchers(retry_at);
      CREATE TABLE IF NOT EXISTS availability (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        told INTEGER,
        pending_at INTEGER,
        mixed INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
];
