/**
 * Webhook endpoints, as `/api/v1` manages them. The workspace object checks
 * that the actor is an admin and that the endpoint exists; a refusal becomes
 * the HTTP error here.
 */
import type { Env } from "../env";
import { unwrap } from "../errors";
import type { Operator, WebhookDeliveryInfo, WebhookEvent, WebhookInfo } from "../protocol";
import { workspaceStub } from "../stubs";

/** The workspace's webhook endpoints. */
export async function listWebhooks(env: Env, actor: Operator): Promise<WebhookInfo[]> {
  return unwrap(await workspaceStub(env).listWebhooks(actor));
}

/** Adds an endpoint for `events` (duplicates dropped); the answer holds its signing secret once. */
export async function addWebhook(env: Env, actor: Operator, url: string, events: WebhookEvent[]) {
  return unwrap(await workspaceStub(env).addWebhook(actor, url, [...new Set(events)]));
}

/** Removes a webhook endpoint; refused when there is none with that id. */
export async function removeWebhook(env: Env, actor: Operator, id: string): Promise<void> {
  unwrap(await workspaceStub(env).removeWebhook(actor, id));
}

/** The recent deliveries of one endpoint; refused when there is none with that id. */
export async function webhookDeliveries(env: Env, actor: Operator, id: string): Promise<WebhookDeliveryInfo[]> {
  return unwrap(await workspaceStub(env).webhookDeliveries(actor, id));
}
