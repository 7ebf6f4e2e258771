/**
 * API tokens for the REST API (`Authorization: Bearer mct_…`).
 *
 * A token is shown once and stored as a SHA-256 hash. It acts as the admin
 * who created it, within its scope (read: GET only; write: also join, leave,
 * send, delete, without admin rights; admin: everything), until it expires
 * (optional, in whole days) or is revoked. The scope is carried on the
 * operator the token authenticates as (`Operator.token`), and the one admin
 * check (operators.ts `requireAdmin`) refuses any scope but admin, so a
 * read or write token can never create a token or touch a webhook.
 *
 * Tokens made before scopes existed were migrated to the admin scope with
 * no expiry (migration 10): that is what they could do already.
 */
import { refuse } from "../errors";
import { randomId, sha256 } from "../lib/crypto";
import type { ApiTokenInfo, Operator, TokenScope } from "../protocol";
import type { WorkspaceContext } from "./context";
import { toOperator, type OperatorRow } from "./operators";

const DAY_MS = 24 * 3600 * 1000;
/** "Last used" is written at most once a minute per token: a busy integration must not cost a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

type TokenRow = {
  id: string;
  name: string;
  operator_id: string;
  scope: TokenScope;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
};

function toInfo(r: TokenRow): ApiTokenInfo {
  return {
    id: r.id,
    name: r.name,
    operatorId: r.operator_id,
    scope: r.scope,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
  };
}

/** What a new token is: a name, a scope and how many days it lasts (null: until revoked). */
export interface NewApiToken {
  name: string;
  scope: TokenScope;
  expiresInDays: number | null;
}

/** The `api_tokens` table. */
export class ApiTokens {
  constructor(private readonly w: WorkspaceContext) {}

  async create(actor: Operator, input: NewApiToken): Promise<{ token: string; info: ApiTokenInfo }> {
    const token = `mct_${randomId()}${randomId()}`;
    const now = Date.now();
    const row: TokenRow = {
      id: randomId(),
      name: input.name,
      operator_id: actor.id,
      scope: input.scope,
      created_at: now,
      expires_at: input.expiresInDays === null ? null : now + input.expiresInDays * DAY_MS,
      last_used_at: null,
    };
    this.w.sql.exec(
      "INSERT INTO api_tokens (id, name, token_hash, operator_id, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      row.id,
      row.name,
      await sha256(token),
      row.operator_id,
      row.scope,
      row.created_at,
      row.expires_at,
    );
    return { token, info: toInfo(row) };
  }

  /** Every token not revoked, expired ones included (they are listed as expired until revoked). */
  list(): ApiTokenInfo[] {
    return this.w.sql
      .exec<TokenRow>(
        `SELECT id, name, operator_id, scope, created_at, expires_at, last_used_at FROM api_tokens
         WHERE revoked_at IS NULL ORDER BY created_at`,
      )
      .toArray()
      .map(toInfo);
  }

  /** Revokes a token; returns its name. */
  revoke(id: string): string {
    const row = this.w.sql
      .exec<{ name: string }>("SELECT name FROM api_tokens WHERE id = ? AND revoked_at IS NULL", id)
      .toArray()[0];
    if (!row) refuse("not_found", "No such token");
    this.w.sql.exec("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", Date.now(), id);
    return row.name;
  }

  /**
   * The operator a token acts as, with the token on it; refused (401) when
   * the token is unknown, revoked, expired, or its operator was removed.
   */
  async authenticate(token: string): Promise<Operator> {
    const invalid = "API token is missing, revoked or invalid";
    if (typeof token !== "string" || !/^mct_[A-Za-z0-9_-]{44}$/.test(token)) refuse("unauthorized", invalid);
    const hash = await sha256(token);
    const row = this.w.sql
      .exec<
        OperatorRow & {
          token_id: string;
          token_name: string;
          scope: TokenScope;
          expires_at: number | null;
          last_used_at: number | null;
        }
      >(
        `SELECT o.*, t.id AS token_id, t.name AS token_name, t.scope, t.expires_at, t.last_used_at
         FROM api_tokens t JOIN operators o ON o.id = t.operator_id
         WHERE t.token_hash = ? AND t.revoked_at IS NULL`,
        hash,
      )
      .toArray()[0];
    if (!row) refuse("unauthorized", invalid);
    const now = Date.now();
    if (row.expires_at !== null && row.expires_at <= now) {
      refuse(
        "unauthorized",
        `This API token expired on ${new Date(row.expires_at).toISOString().slice(0, 10)}; an admin can create a new one under Integrations`,
      );
    }
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      this.w.sql.exec("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", now, row.token_id);
    }
    return { ...toOperator(row), token: { id: row.token_id, name: row.token_name, scope: row.scope } };
  }
}
