/**
 * Operators, their sessions, and the one admin check (API tokens are in
 * api-tokens.ts).
 *
 * Session tokens are stored as SHA-256 hashes only: the raw token exists in
 * the cookie, never here. A session lasts at most 30 days and ends sooner
 * after 12 hours unused; "sign out everywhere" ends all of an operator's.
 * Password hashing runs in the Worker, not here: PBKDF2 is deliberately slow
 * and would stall every panel of the workspace while it ran.
 */
import { refuse } from "../errors";
import { randomId, sha256 } from "../lib/crypto";
import type { DeletePolicy, Operator, PresenceStatus } from "../protocol";
import type { WorkspaceContext } from "./context";

/** How long an operator session lasts at most, however active (the cookie lasts as long). */
export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
/** A session unused for this long ends: the next request needs a new sign-in. */
export const SESSION_IDLE_MS = 12 * 3600 * 1000;
/** A session's last use is written at most this often, so a busy panel costs no write per request. */
const SESSION_TOUCH_MS = 60_000;

/** A row of the operators table. */
export type OperatorRow = {
  id: string;
  name: string;
  email: string;
  password_hash: string;
  admin: number;
  created_at: number;
};

/** On what grounds a conversation may be deleted: as an admin, or as an operator in it. */
export type DeleteGrounds = "admin" | "joined";

/** What a new operator is made of (the password already hashed by the Worker). */
export interface NewOperator {
  name: string;
  email: string;
  passwordHash: string;
  admin: boolean;
}

/** An operator as the rest of the Worker sees them (no password hash). */
export function toOperator(r: OperatorRow): Operator {
  return { id: r.id, name: r.name, email: r.email, admin: r.admin === 1, createdAt: r.created_at };
}

/** A live operator session: who, its id (the SHA-256 of its token, never the token) and its end. */
export interface OperatorSession {
  operator: Operator;
  id: string;
  expiresAt: number;
}

/** The operators table and everything that proves who an operator is. */
export class Operators {
  constructor(private readonly w: WorkspaceContext) {}

  /**
   * The one admin check, run by every admin-only operation of the workspace.
   * It re-reads the flag from storage: the caller's copy of the operator was
   * made when the request was authenticated and may predate a demotion or removal.
   */
  requireAdmin(actor: Operator, what: string): void {
    // A request made with an API token can do no more than the token's scope allows.
    if (actor.token && actor.token.scope !== "admin")
      refuse(
        "forbidden",
        `The API token "${actor.token.name}" has the ${actor.token.scope} scope; only a token with the admin scope can ${what}`,
      );
    if (!this.isAdmin(actor)) refuse("forbidden", `Only admins can ${what}`);
  }

  /** Whether `actor` acts as an admin in this request: an admin in storage, and not through a lesser token. */
  isAdmin(actor: Operator): boolean {
    if (actor.token && actor.token.scope !== "admin") return false;
    const row = this.w.sql.exec<{ admin: number }>("SELECT admin FROM operators WHERE id = ?", actor.id).toArray()[0];
    return row?.admin === 1;
  }

  /**
   * Whether `actor` may delete a conversation under `policy`: admins always,
   * the operators in it when the policy says so. Returns on what grounds.
   */
  mayDelete(actor: Operator, joined: boolean, policy: DeletePolicy): DeleteGrounds {
    if (this.isAdmin(actor)) return "admin";
    if (policy === "admins_and_joined" && joined) return "joined";
    return refuse(
      "forbidden",
      policy === "admins"
        ? "Only admins can delete conversations in this workspace"
        : "Only admins and the operators in this conversation can delete it",
    );
  }

  needsSetup(): boolean {
    return this.w.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM operators").one().n === 0;
  }

  /**
   * Creates the first admin and signs them in. Two setup requests racing
   * each other cannot both succeed: the check and the insert run with no
   * await between them, so no other request of this object runs in between.
   */
  async setup(input: Omit<NewOperator, "admin">): Promise<{ operator: Operator; token: string }> {
    if (!this.needsSetup()) refuse("already_set_up", "This workspace is already set up");
    const operator = this.insert({ ...input, admin: true });
    return { operator, token: await this.createSession(operator.id) };
  }

  insert(input: NewOperator): Operator {
    if (this.w.sql.exec("SELECT 1 FROM operators WHERE email = ?", input.email).toArray().length > 0) {
      refuse("email_taken", "An operator with that email already exists");
    }
    const row: OperatorRow = {
      id: randomId(),
      name: input.name,
      email: input.email,
      password_hash: input.passwordHash,
      admin: input.admin ? 1 : 0,
      created_at: Date.now(),
    };
    this.w.sql.exec(
      "INSERT INTO operators (id, name, email, password_hash, admin, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      row.id,
      row.name,
      row.email,
      row.password_hash,
      row.admin,
      row.created_at,
    );
    return toOperator(row);
  }

  /**
   * Removes an operator, ends their sessions and revokes their API tokens
   * (which would stop working with them anyway; revoked, they also leave the
   * token list instead of lingering there).
   */
  remove(actor: Operator, operatorId: string): void {
    if (operatorId === actor.id) refuse("cannot_remove_self", "You cannot remove yourself");
    if (!this.exists(operatorId)) refuse("not_found", "No such operator");
    this.w.ctx.storage.transactionSync(() => {
      this.w.sql.exec("DELETE FROM sessions WHERE operator_id = ?", operatorId);
      this.w.sql.exec(
        "UPDATE api_tokens SET revoked_at = ? WHERE operator_id = ? AND revoked_at IS NULL",
        Date.now(),
        operatorId,
      );
      this.w.sql.exec("DELETE FROM operators WHERE id = ?", operatorId);
    });
  }

  exists(operatorId: string): boolean {
    return this.w.sql.exec("SELECT 1 FROM operators WHERE id = ?", operatorId).toArray().length > 0;
  }

  /** Every operator, oldest first. */
  list(): Operator[] {
    return this.w.sql.exec<OperatorRow>("SELECT * FROM operators ORDER BY created_at").toArray().map(toOperator);
  }

  /** Every operator's name and chosen status, by name: for presence and reports. */
  roster(): { id: string; name: string; status: PresenceStatus }[] {
    return this.w.sql
      .exec<{ id: string; name: string; away: number }>("SELECT id, name, away FROM operators ORDER BY name")
      .toArray()
      .map((r) => ({ id: r.id, name: r.name, status: r.away ? "away" : "online" }));
  }

  /** An operator sets themselves online or away. */
  setStatus(operatorId: string, status: PresenceStatus): void {
    this.w.sql.exec("UPDATE operators SET away = ? WHERE id = ?", status === "away" ? 1 : 0, operatorId);
  }

  // Sessions (the panel's cookie) ------------------------------------------

  /** The stored password hash for an email, for the Worker to verify. */
  credentials(email: string): { operatorId: string; passwordHash: string } | null {
    const row = this.w.sql
      .exec<{ id: string; password_hash: string }>("SELECT id, password_hash FROM operators WHERE email = ?", email)
      .toArray()[0];
    return row ? { operatorId: row.id, passwordHash: row.password_hash } : null;
  }

  /** Starts a session; the raw token goes to the cookie, only its hash is stored. */
  async createSession(operatorId: string): Promise<string> {
    const token = randomId() + randomId();
    const hash = await sha256(token);
    const now = Date.now();
    this.w.sql.exec("DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?", now, now - SESSION_IDLE_MS);
    this.w.sql.exec(
      "INSERT INTO sessions (token_hash, operator_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
      hash,
      operatorId,
      now,
      now + SESSION_TTL_MS,
      now,
    );
    return token;
  }

  /** Ends every session of an operator (sign out everywhere); returns how many there were. */
  endSessions(operatorId: string): number {
    return this.w.sql.exec("DELETE FROM sessions WHERE operator_id = ?", operatorId).rowsWritten;
  }

  /** Ends a session; returns whose it was and its id (the token's hash), or null when there was none. */
  async endSession(token: string): Promise<{ operatorId: string; sessionId: string } | null> {
    const sessionId = await sha256(token);
    const row = this.w.sql
      .exec<{ operator_id: string }>("DELETE FROM sessions WHERE token_hash = ? RETURNING operator_id", sessionId)
      .toArray()[0];
    return row ? { operatorId: row.operator_id, sessionId } : null;
  }

  /**
   * The operator a session token belongs to, or null: unknown, past its 30
   * days, or unused for 12 hours (then it is deleted too). A use counts
   * towards the idle time at most once a minute.
   */
  async authenticate(token: string): Promise<Operator | null> {
    return (await this.sessionOf(token))?.operator ?? null;
  }

  /** A session token's operator, the session's id (the token's hash) and when it expires; null if unknown or expired. */
  async sessionOf(token: string): Promise<OperatorSession | null> {
    if (typeof token !== "string" || token.length !== 44) return null;
    return this.session(await sha256(token));
  }

  /**
   * The live session with this id (the hash of its token), or null: unknown,
   * past its 30 days, or unused for 12 hours (then it is deleted too). A use
   * counts towards the idle time at most once a minute. The one rule of what
   * makes a session valid: the HTTP guards and every socket opened with a
   * session (checked again while it stays open, which counts as use) go
   * through here.
   */
  session(sessionId: string): OperatorSession | null {
    const now = Date.now();
    const row = this.w.sql
      .exec<OperatorRow & { expires_at: number; last_seen_at: number }>(
        `SELECT o.*, s.expires_at, s.last_seen_at FROM sessions s JOIN operators o ON o.id = s.operator_id
         WHERE s.token_hash = ?`,
        sessionId,
      )
      .toArray()[0];
    if (!row) return null;
    if (row.expires_at <= now || now - row.last_seen_at >= SESSION_IDLE_MS) {
      this.w.sql.exec("DELETE FROM sessions WHERE token_hash = ?", sessionId);
      return null;
    }
    if (now - row.last_seen_at >= SESSION_TOUCH_MS)
      this.w.sql.exec("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", now, sessionId);
    return { operator: toOperator(row), id: sessionId, expiresAt: row.expires_at };
  }
}
