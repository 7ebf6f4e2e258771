/**
 * Webhook endpoints, as `/api/v1` manages them (admins): the
 * refusals the workspace answers with a plain value become `not_found` here.
 */
import type { Env } from "../env";
import { refuse } from "../errors";
import type { WebhookDeliveryInfo } from "../protocol";
import { workspaceStub } from "../stubs";

/** Removes a webhook endpoint; refused when there is none with that id. */
export async function removeWebhook(env: Env, id: string): Promise<void> {
  if (!(await workspaceStub(env).removeWebhook(id))) refuse("not_found", "No such webhook");
}

/** The recent deliveries of one endpoint; refused when there is none with that id. */
export async function webhookDeliveries(env: Env, id: string): Promise<WebhookDeliveryInfo[]> {
  const workspace = workspaceStub(env);
  if (!(await workspace.listWebhooks()).some((w) => w.id === id)) refuse("not_found", "No such webhook");
  return workspace.webhookDeliveries(id);
}
