/**
 * Integrations (admins): API tokens and webhook endpoints, over `/api/v1`.
 * Secrets (a token, a webhook's signing secret) come back once, from the
 * create call; they are handed to the page to show and never kept here.
 */
import { createStore } from "solid-js/store";
import type {
  ApiTokenInfo,
  TokenScope,
  WebhookDeliveryInfo,
  WebhookEvent,
  WebhookInfo,
} from "../../../worker/protocol";
import { api, errorText } from "../lib/api";

export const WEBHOOK_EVENTS: readonly { event: WebhookEvent; label: string }[] = [
  { event: "conversation.created", label: "A conversation starts" },
  { event: "message.created", label: "A message is sent (visitor or operator)" },
  { event: "conversation.joined", label: "An operator joins" },
  { event: "conversation.left", label: "An operator leaves" },
  { event: "conversation.deleted", label: "A conversation is deleted" },
  { event: "rating.submitted", label: "A visitor rates the chat" },
];

export interface DeliveriesView {
  phase: "loading" | "ready" | "error";
  items: WebhookDeliveryInfo[];
  error: string | null;
}

export interface IntegrationsState {
  phase: "loading" | "ready" | "error";
  tokens: ApiTokenInfo[];
  webhooks: WebhookInfo[];
  /** Deliveries per webhook id, for the ones opened. */
  deliveries: Record<string, DeliveriesView>;
  error: string | null;
}

export interface IntegrationsActions {
  load(): Promise<void>;
  /** Returns the token; throws `HttpError` with the server's message. */
  createToken(input: { name: string; scope: TokenScope; expiresInDays: number | null }): Promise<string>;
  revokeToken(id: string): Promise<void>;
  /** Returns the signing secret; throws `HttpError` with the server's message. */
  addWebhook(url: string, events: WebhookEvent[]): Promise<string>;
  removeWebhook(id: string): Promise<void>;
  loadDeliveries(id: string): Promise<void>;
}

const newestFirst = (a: { createdAt: number }, b: { createdAt: number }) => b.createdAt - a.createdAt;

export function createIntegrations(): [IntegrationsState, IntegrationsActions] {
  const [state, setState] = createStore<IntegrationsState>({
    phase: "loading",
    tokens: [],
    webhooks: [],
    deliveries: {},
    error: null,
  });
  const actions: IntegrationsActions = {
    async load() {
      try {
        const [{ tokens }, { webhooks }] = await Promise.all([api.tokens(), api.webhooks()]);
        setState({
          phase: "ready",
          tokens: [...tokens].sort(newestFirst),
          webhooks: [...webhooks].sort(newestFirst),
          error: null,
        });
      } catch (e) {
        setState({ phase: "error", error: errorText(e) });
      }
    },
    async createToken(input) {
      const { token, info } = await api.createToken(input);
      setState("tokens", (list) => [info, ...list.filter((t) => t.id !== info.id)]);
      return token;
    },
    async revokeToken(id) {
      await api.revokeToken(id);
      setState("tokens", (list) => list.filter((t) => t.id !== id));
    },
    async addWebhook(url, events) {
      const { webhook, secret } = await api.addWebhook({ url, events });
      setState("webhooks", (list) => [webhook, ...list.filter((w) => w.id !== webhook.id)]);
      return secret;
    },
    async removeWebhook(id) {
      await api.removeWebhook(id);
      setState("webhooks", (list) => list.filter((w) => w.id !== id));
    },
    async loadDeliveries(id) {
      const before = state.deliveries[id];
      setState("deliveries", id, {
        phase: before?.items.length ? "ready" : "loading",
        items: before?.items ?? [],
        error: null,
      });
      try {
        const { deliveries } = await api.webhookDeliveries(id);
        setState("deliveries", id, { phase: "ready", items: deliveries, error: null });
      } catch (e) {
        setState("deliveries", id, { phase: "error", error: errorText(e) });
      }
    },
  };
  return [state, actions];
}
