/**
 * The audit log: who deleted, erased, added, removed, revoked or changed
 * what, and when, for admins to read (`GET /api/audit`, Settings > Audit log).
 *
 * An entry names its actor as they were then (name, and the API token when
 * one was used), so it still reads right after the operator is renamed or
 * removed. It holds no message text and no visitor's name: a deleted
 * conversation is recorded by its id, an erased person by a masked address,
 * so the log does not keep what deletion and erasure removed. Entries older
 * than a year are dropped as new ones are written.
 */
import type { ApiTokenInfo, AuditAction, AuditEntry, AuditPage, Operator, WorkspaceSettings } from "../protocol";
import type { WorkspaceContext } from "./context";
import type { DeleteGrounds } from "./operators";

/** How long an entry is kept. */
export const AUDIT_KEEP_MS = 365 * 24 * 3600 * 1000;
/** Most entries one page returns. */
const MAX_PAGE = 200;

type AuditRow = {
  id: number;
  at: number;
  actor_id: string | null;
  actor_name: string;
  via_token: string | null;
  action: AuditAction;
  target: string;
  detail: string | null;
};

/** `jane.doe@example.org` → `j•••@example.org`: enough to recognise a request, not to restore the address. */
function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  return at < 1 ? "•••" : `${email[0]}•••${email.slice(at)}`;
}

/** The `audit_log` table. */
export class AuditLog {
  constructor(private readonly w: WorkspaceContext) {}

  /** Records that `actor` (null: Microchat itself) did `action` to `target`. */
  record(actor: Operator | null, action: AuditAction, target: string, detail: string | null = null): void {
    const now = Date.now();
    this.w.sql.exec("DELETE FROM audit_log WHERE at < ?", now - AUDIT_KEEP_MS);
    this.w.sql.exec(
      "INSERT INTO audit_log (at, actor_id, actor_name, via_token, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
      now,
      actor?.id ?? null,
      actor?.name ?? "Microchat",
      actor?.token?.name ?? null,
      action,
      target,
      detail,
    );
  }

  /** Something done to an operator (added, removed, signed out everywhere), named as they are now. */
  operator(actor: Operator, action: AuditAction, target: Operator, detail: string | null = null): void {
    this.record(actor, action, `${target.name} <${target.email}>`, detail);
  }

  /** A conversation deleted, as an admin or as an operator in it. */
  deleted(actor: Operator, conversationId: string, grounds: DeleteGrounds): void {
    this.record(
      actor,
      "conversation.deleted",
      conversationId,
      grounds === "joined" ? "as an operator in it" : "as an admin",
    );
  }

  /** A privacy erasure: a visitor id or a masked address, and the conversations it deleted. */
  erased(actor: Operator, who: { visitorId?: string; email?: string }, ids: string[]): void {
    const target = who.email ? `email ${maskEmail(who.email)}` : `visitor ${who.visitorId ?? "?"}`;
    const shown = ids.slice(0, 20).join(", ") + (ids.length > 20 ? ", …" : "");
    const detail = `${ids.length} ${ids.length === 1 ? "conversation" : "conversations"} deleted${shown ? `: ${shown}` : ""}`;
    this.record(actor, "person.erased", target, detail);
  }

  tokenCreated(actor: Operator, info: ApiTokenInfo): void {
    const expires = info.expiresAt ? new Date(info.expiresAt).toISOString().slice(0, 10) : "never";
    this.record(actor, "token.created", info.name, `scope ${info.scope}, expires ${expires}`);
  }

  /** The settings that differ between `before` and `after`, with their new values; nothing when none do. */
  settingsChanged(actor: Operator, before: WorkspaceSettings, after: WorkspaceSettings): void {
    const changed = (Object.keys(after) as (keyof WorkspaceSettings)[]).filter((k) => after[k] !== before[k]);
    if (changed.length === 0) return;
    const values = changed.map((k) => `${k}: ${String(after[k])}`).join("; ");
    this.record(actor, "settings.changed", changed.join(", "), values);
  }

  /** Newest first; `before` is the id of the oldest entry already seen. */
  page(before: number | null, limit: number): AuditPage {
    const n = Math.min(Math.max(limit, 1), MAX_PAGE);
    const rows = this.w.sql
      .exec<AuditRow>(
        "SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
        before ?? Number.MAX_SAFE_INTEGER,
        n + 1,
      )
      .toArray();
    return {
      entries: rows.slice(0, n).map((r): AuditEntry => ({
        id: r.id,
        at: r.at,
        actor: { id: r.actor_id, name: r.actor_name, token: r.via_token },
        action: r.action,
        target: r.target,
        detail: r.detail,
      })),
      hasMore: rows.length > n,
    };
  }
}
