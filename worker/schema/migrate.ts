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
  sql.exec(
    "CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const row = sql.exec<{ v: number | null }>("SELECT MAX(id) AS v FROM _migrations").one();
  const current = row.v ?? 0;
  for (const m of migrations) {
    if (m.id <= current) continue;
    // SQLite-backed Durable Objects run each exec atomically with the
    // implicit transaction of this event; a failing migration throws and the
    // object retries on next start with nothing recorded.
    sql.exec(m.sql);
    sql.exec("INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)", m.id, m.name, Date.now());
  }
}
