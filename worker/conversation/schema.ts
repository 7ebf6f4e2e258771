/**
 * Schema of a Conversation Durable Object's SQLite storage, as numbered,
 * append-only migrations (run by `migrate` from the object's constructor).
 * A shipped migration is never edited, only followed by a new one.
 */
import type { Migration } from "../schema/migrate";

export const conversationMigrations: readonly Migration[] = [
  {
    id: 1,
    name: "messages, assignment, meta",
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        client_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        author_role TEXT NOT NULL,
        author_id TEXT NOT NULL,
        author_name TEXT NOT NULL,
        text TEXT NOT NULL,
        event TEXT,
        at INTEGER NOT NULL
      );
      CREATE TABLE operators (
        operator_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        joined_at INTEGER NOT NULL
      );
      CREATE TABLE used_tickets (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
    `,
  },
  {
    id: 2,
    name: "attachments, channels, email envelopes, delivery state",
    sql: `
      ALTER TABLE messages ADD COLUMN file TEXT;
      ALTER TABLE messages ADD COLUMN channel TEXT NOT NULL DEFAULT 'chat';
      ALTER TABLE messages ADD COLUMN email TEXT;
      ALTER TABLE messages ADD COLUMN delivery TEXT;
      CREATE TABLE attachments (file_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, meta TEXT NOT NULL);
    `,
  },
  {
    id: 3,
    name: "survey stretch, operator stats waiting to be reported",
    sql: `
      CREATE TABLE stretch_operators (operator_id TEXT PRIMARY KEY, name TEXT NOT NULL);
      CREATE TABLE pending_stats (
        kind TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        value INTEGER NOT NULL
      );
    `,
  },
  {
    id: 4,
    name: "page views",
    sql: `
      CREATE TABLE page_views (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        at INTEGER NOT NULL,
        ms INTEGER
      );
      CREATE INDEX page_views_at ON page_views(at DESC);
    `,
  },
  {
    id: 5,
    name: "a rating column, so a rating is never read back from display text",
    // Ratings stored before this column existed live only in their text,
    // which has always been written as "Rated N/5" (then ": comment"): read
    // them from there once, here, so old conversations show their ratings.
    sql: `
      ALTER TABLE messages ADD COLUMN rating INTEGER;
      UPDATE messages SET rating = CAST(substr(text, 7, 1) AS INTEGER)
        WHERE event = 'rated' AND text GLOB 'Rated [1-5]/5*';
    `,
  },
  {
    id: 6,
    name: "revoked visitor token families",
    // A family is one sign-in and the tokens rotated from it; a row lives until
    // the last token it could cover has expired (access.ts). Idempotent, so a
    // test that rewinds to an earlier migration can run it again.
    sql: `CREATE TABLE IF NOT EXISTS revoked_tokens (family TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);`,
  },
  {
    id: 7,
    name: "what the site vouched for, apart from what is shown",
    // Before, a verified identity was only a flag over whatever name and email
    // were shown; what is shown under it now counts as what was vouched for.
    sql: `
      INSERT OR IGNORE INTO meta (key, value)
        SELECT 'verified_' || substr(key, 9), value FROM meta
        WHERE key IN ('visitor_name', 'visitor_email')
          AND EXISTS (SELECT 1 FROM meta WHERE key = 'identity_verified' AND value = '1');
    `,
  },
  {
    id: 8,
    name: "an operator's reply writes its figure and the read mark in its own insert",
    // What every reply (an operator's text or file message) also records: the figure Report > Operator counts
    // (pending_stats, reported by index-report.ts) and the read mark, `last_read_seq` (a reply answers everything
    // before it; meta.ts names the key). Written by SQLite as part of the reply's insert, one statement per reply
    // instead of three: they were a third of a busy conversation's SQLite time (README, Performance). A resend
    // inserts nothing (ON CONFLICT DO NOTHING), so it counts nothing; events (joined, left) are not replies.
    sql: `
      CREATE TRIGGER IF NOT EXISTS reply_written AFTER INSERT ON messages
        WHEN NEW.author_role = 'operator' AND NEW.kind IN ('text', 'file')
      BEGIN
        INSERT INTO pending_stats (kind, operator_id, at, value) VALUES ('message', NEW.author_id, NEW.at, 1);
        INSERT INTO meta (key, value) VALUES ('last_read_seq', NEW.seq)
          ON CONFLICT (key) DO UPDATE SET value = excluded.value;
      END;
    `,
  },
];
