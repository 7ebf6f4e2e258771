/** The strip shown while a socket is reconnecting. */
import { Show } from "solid-js";

export function ConnectionBanner(props: { show: boolean }) {
  return (
    <Show when={props.show}>
      <div class="connection-banner" role="status" data-testid="connection-banner">
        <span class="spinner" aria-hidden="true" />
        Connection lost. Reconnecting…
      </div>
    </Show>
  );
}
