/**
 * Workspace settings: a key → JSON value table read and written through
 * typed accessors, so each key has one type and a yes/no is a boolean in
 * storage too (migration 9 converted the older bare-text values).
 */
import type { DeletePolicy, WorkspaceSettings } from "../protocol";
import type { WorkspaceContext } from "./context";

/** Every stored setting and the type of its value. */
interface SettingValues {
  /** The address email replies come from (admins set it; default from the environment). */
  email_address: string;
  /** Display name on outgoing mail. */
  email_name: string;
  /** Delete conversations inactive for this many days; 0 or unset = never. */
  retention_days: number;
  /** Email-only visitors get the satisfaction survey by email. */
  survey_by_email: boolean;
  /** When retention next looks for conversations that are due (epoch ms). */
  retention_next_at: number;
  /** Who may delete a conversation (default: admins and the operators in it). */
  delete_by: DeletePolicy;
}

type SettingKey = keyof SettingValues;

/** Typed access to the `settings` table. */
export class Settings {
  constructor(private readonly w: WorkspaceContext) {}

  /** The stored value of `key`, or null when it was never set. */
  get<K extends SettingKey>(key: K): SettingValues[K] | null {
    const row = this.w.sql.exec<{ value: string }>("SELECT value FROM settings WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.value) as SettingValues[K]) : null;
  }

  put<K extends SettingKey>(key: K, value: SettingValues[K]): void {
    this.w.sql.exec(
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      JSON.stringify(value),
    );
  }

  /** Retention in days; 0 means conversations are kept forever. */
  retentionDays(): number {
    return this.get("retention_days") ?? 0;
  }

  /** Who may delete a conversation: admins, and (by default) the operators who joined it. */
  deleteBy(): DeletePolicy {
    return this.get("delete_by") ?? "admins_and_joined";
  }

  /** The settings as the panel and the conversations see them, defaults filled in. */
  view(): WorkspaceSettings {
    return {
      emailAddress: this.get("email_address") ?? this.w.env.EMAIL_ADDRESS ?? null,
      emailName: this.get("email_name") ?? this.w.env.WORKSPACE_NAME,
      retentionDays: this.retentionDays(),
      surveyByEmail: this.get("survey_by_email") ?? false,
      deleteBy: this.deleteBy(),
    };
  }

  /** Stores the fields given (empty addresses and names are ignored). */
  update(input: Partial<WorkspaceSettings>): void {
    if (input.emailAddress) this.put("email_address", input.emailAddress);
    if (input.emailName) this.put("email_name", input.emailName);
    if (input.surveyByEmail !== undefined) this.put("survey_by_email", input.surveyByEmail);
    if (input.retentionDays !== undefined) this.put("retention_days", input.retentionDays);
    if (input.deleteBy !== undefined) this.put("delete_by", input.deleteBy);
  }
}
