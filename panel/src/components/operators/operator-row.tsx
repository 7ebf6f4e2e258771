/** One operator of the team list: name, admin badge, presence, email; Sign out (everywhere, asked in a dialog); Remove asks inline first. */
import { createSignal, Show } from "solid-js";
import type { Operator, OperatorPresence } from "../../../../worker/protocol";
import { createAction } from "../../lib/async";
import { fullTime } from "../../lib/format";
import { OperatorAvatar } from "../avatar";

const PRESENCE_LABEL = { online: "Online", away: "Away", offline: "Offline" } as const;

export function OperatorRow(props: {
  operator: Operator;
  isMe: boolean;
  presence: OperatorPresence | undefined;
  onRemove: () => Promise<void>;
  /** Ask to sign this operator out everywhere. */
  onSignOut: () => void;
}) {
  // Online with the panel open; Away when they chose not to be notified; Offline when the panel is closed.
  const presence = () => (!props.presence?.online ? "offline" : props.presence.status === "away" ? "away" : "online");
  const [confirming, setConfirming] = createSignal(false);
  // On success the row goes away with the operator; on failure it says why and asks no more.
  const remove = createAction(async () => {
    try {
      await props.onRemove();
    } catch (e) {
      setConfirming(false);
      throw e;
    }
  });

  return (
    <li class="operator-row" data-testid="operator-row" data-operator-id={props.operator.id}>
      <OperatorAvatar name={props.operator.name} />
      <div class="operator-info">
        <div class="operator-name">
          <span class="ellipsis">{props.operator.name}</span>
          <Show when={props.isMe}>
            <span class="muted small">(you)</span>
          </Show>
          <Show when={props.operator.admin}>
            <span class="tag" data-testid="admin-badge">
              Admin
            </span>
          </Show>
          <span
            class="presence small"
            classList={{ online: presence() === "online", away: presence() === "away" }}
            data-testid="operator-presence"
            data-presence={presence()}
          >
            {PRESENCE_LABEL[presence()]}
          </span>
        </div>
        <div class="muted small ellipsis" title={`Added ${fullTime(props.operator.createdAt)}`}>
          {props.operator.email}
        </div>
        <Show when={remove.error()}>
          <div class="error-text small" role="alert">
            {remove.error()}
          </div>
        </Show>
      </div>
      <Show when={!props.isMe}>
        <div class="operator-actions">
          <Show
            when={confirming()}
            fallback={
              <>
                <button
                  type="button"
                  class="button secondary small"
                  aria-label={`Sign out ${props.operator.name} everywhere`}
                  aria-haspopup="dialog"
                  data-testid="sign-out-operator"
                  onClick={() => props.onSignOut()}
                >
                  Sign out
                </button>
                <button
                  type="button"
                  class="button secondary small"
                  aria-label={`Remove ${props.operator.name}`}
                  data-testid="remove-operator"
                  onClick={() => setConfirming(true)}
                >
                  Remove
                </button>
              </>
            }
          >
            <span class="small">Remove {props.operator.name}?</span>
            <button
              type="button"
              class="button danger small"
              disabled={remove.busy()}
              onClick={() => void remove.run()}
              data-testid="confirm-remove"
            >
              {remove.busy() ? "Removing…" : "Remove"}
            </button>
            <button
              type="button"
              class="button secondary small"
              disabled={remove.busy()}
              onClick={() => setConfirming(false)}
            >
              Cancel
            </button>
          </Show>
        </div>
      </Show>
    </li>
  );
}
