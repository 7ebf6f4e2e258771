/**
 * Numbered, append-only SQLite migrations for Durable Objects.
 *
 * Each object runs `migrate` from its constructor inside
 * `blockConcurrencyWhile`, so no request sees a half-migrated schema. Applied
 * ids are recorded in `_migrations`; a migration is never edited once
 * shipped, only followed by a new one.
 */

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export function migrate(sql: SqlStorage, migrations: readonly Migration[]): void {
  // Runs on every wake of every object (a conversation wakes from hibernation for each message on a quiet site):
  // one read, unless there is something to do (no DDL statement to prepare and run each time). Only a new object
  // has no `_migrations` yet, and the read fails there.
  let current: number;
  try {
    current = sql.exec<{ v: number | null }>("SELECT MAX(id) AS v FROM _migrations").one().v ?? 0;
  } catch (err) {
    if (!/no such table/.test(String(err))) throw err;
    sql.exec("CREATE TABLE _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    current = 0;
  }
  if (current >= (migrations[migrations.length - 1]?.id ?? 0)) return;
  for (const m of migrations) {
    if (m.id <= current) continue;
    // SQLite-backed Durable Objects run each exec atomically with the
    // implicit transaction of this event; a failing migration throws and the
    // object retries on next start with nothing recorded.
    sql.exec(m.sql);
    sql.exec("INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)", m.id, m.name, Date.now());
  }
}
