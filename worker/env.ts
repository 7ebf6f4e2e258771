/** Bindings and variables the Worker and its Durable Objects receive. */
import type { Conversation } from "./conversation";
import type { Workspace } from "./workspace/object";

export interface Env {
  CONVERSATION: DurableObjectNamespace<Conversation>;
  WORKSPACE: DurableObjectNamespace<Workspace>;
  ASSETS: Fetcher;
  /** R2 bucket for attachments (files and pictures). */
  ATTACHMENTS: R2Bucket;
  /** Outbound email (operator replies on the Email channel). */
  SEND_EMAIL: SendEmail;
  /** Default sending address until an admin sets one in the panel. */
  EMAIL_ADDRESS?: string;
  /**
   * Secret the site uses to sign `setUser` identities (HMAC-SHA256 of the
   * user id). A secret (`wrangler secret put IDENTITY_SECRET`), never in the repo.
   * Identity verification is off while it is unset.
   */
  IDENTITY_SECRET?: string;
  /** Per-IP limit on new visitor sessions (new conversations). */
  SESSION_LIMIT?: RateLimit;
  /** Per-IP limit on uploads. */
  UPLOAD_LIMIT?: RateLimit;
  /** Per-IP limit on visitors' chat messages, across conversations (asked by the Conversation object). */
  MESSAGE_LIMIT?: RateLimit;
  /** Public https origin of this deployment, for links in emails (the survey link). */
  PUBLIC_URL?: string;
  /** "off" disables the per-IP limits (local benchmarks only); per-visitor limits and sign-in throttling per account stay. */
  RATE_LIMITS?: string;
  /** Largest upload in bytes (default 10 MB). */
  MAX_UPLOAD_BYTES?: string;
  /** Public key carried by the widget's script tag. */
  SITE_KEY: string;
  WORKSPACE_NAME: string;
  /**
   * Secret for signing visitor tokens and socket tickets. A secret
   * (`wrangler secret put SESSION_SECRET`, `.dev.vars` locally), never in the repo.
   */
  SESSION_SECRET: string;
}
