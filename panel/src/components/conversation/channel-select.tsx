/**
 * The reply channel switch in the composer: Chat or Email, as a segmented
 * radio group (arrow keys move and select, Tab enters at the chosen option).
 */
import { For } from "solid-js";
import type { Channel } from "../../../../worker/protocol";
import { ChatIcon, MailIcon } from "../icons";

const OPTIONS: { value: Channel; label: string }[] = [
  { value: "chat", label: "Chat" },
  { value: "email", label: "Email" },
];

export function ChannelSelect(props: {
  value: Channel;
  onChange: (c: Channel) => void;
  /** Why Email cannot be chosen (shown as its title), or null when it can. */
  emailDisabled: string | null;
  disabled?: boolean;
}) {
  const buttons: HTMLButtonElement[] = [];
  const enabled = (c: Channel) => !props.disabled && (c === "chat" || props.emailDisabled === null);

  const onKeyDown = (e: KeyboardEvent) => {
    const step =
      e.key === "ArrowRight" || e.key === "ArrowDown" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const i = OPTIONS.findIndex((o) => o.value === props.value);
    for (let k = 1; k <= OPTIONS.length; k++) {
      const j = (i + step * k + OPTIONS.length * k) % OPTIONS.length;
      const next = OPTIONS[j]!;
      if (enabled(next.value)) {
        props.onChange(next.value);
        buttons[j]?.focus();
        return;
      }
    }
  };

  return (
    <div
      class="segmented"
      role="radiogroup"
      aria-label="Reply channel"
      data-testid="channel-select"
      data-value={props.value}
      onKeyDown={onKeyDown}
    >
      <For each={OPTIONS}>
        {(o, i) => (
          <button
            ref={(el) => (buttons[i()] = el)}
            type="button"
            role="radio"
            class="segment"
            aria-checked={props.value === o.value}
            tabIndex={props.value === o.value ? 0 : -1}
            // aria-disabled rather than disabled: the title saying why still shows on hover.
            aria-disabled={!enabled(o.value)}
            title={o.value === "email" ? (props.emailDisabled ?? "Reply by email") : "Reply in the chat widget"}
            data-testid={`channel-${o.value}`}
            onClick={() => enabled(o.value) && props.onChange(o.value)}
          >
            {o.value === "email" ? <MailIcon size={14} /> : <ChatIcon size={14} />}
            <span>{o.label}</span>
          </button>
        )}
      </For>
    </div>
  );
}
