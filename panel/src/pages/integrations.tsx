/**
 * Integrations (admins): API tokens for the REST API and webhook endpoints,
 * with each webhook's recent deliveries and how to check their signature.
 * A new token or signing secret is shown once, in a copyable field.
 */
import { onMount } from "solid-js";
import { TokensCard } from "../components/integrations/tokens-card";
import { WebhooksCard } from "../components/integrations/webhooks-card";
import { Loadable, Page } from "../components/status";
import { createIntegrations } from "../stores/integrations";

export default function IntegrationsPage() {
  const [state, actions] = createIntegrations();
  onMount(() => void actions.load());

  return (
    <Page
      name="integrations"
      title="Integrations"
      intro={
        <>
          Connect Microchat to your own systems: call the REST API with a token, or have Microchat call you with
          webhooks. The full reference is the{" "}
          <a href="/api/v1/openapi.json" target="_blank" rel="noopener" data-testid="openapi-link">
            OpenAPI document (/api/v1/openapi.json)
          </a>
          .
        </>
      }
    >
      <Loadable
        phase={state.phase}
        error={state.error}
        loading="Loading integrations…"
        onRetry={() => void actions.load()}
      >
        <TokensCard state={state} actions={actions} />
        <WebhooksCard state={state} actions={actions} />
      </Loadable>
    </Page>
  );
}
