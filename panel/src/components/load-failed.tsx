/**
 * What shows where a part of the panel loaded on first use (a page, the
 * conversation window) could not be loaded, typically while offline: what
 * happened, a Try again button, and a new try by itself as soon as the
 * browser is back online. The rest of the panel stays usable around it.
 */
import { onCleanup } from "solid-js";

export function LoadFailed(props: { what: string; retry: () => void; class?: string }) {
  const retry = () => props.retry();
  addEventListener("online", retry);
  onCleanup(() => removeEventListener("online", retry));
  return (
    <div class={props.class ?? "gate"}>
      <div class="card gate-card" role="alert" data-testid="load-failed">
        <h2>{props.what} could not be loaded</h2>
        <p class="muted">Check your connection. It loads by itself when the connection is back.</p>
        <button type="button" class="button primary block" onClick={retry}>
          Try again
        </button>
      </div>
    </div>
  );
}
