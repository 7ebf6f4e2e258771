/** The reply box: Enter sends, Shift+Enter starts a new line. */
import { createSignal, onMount, Show } from "solid-js";
import { MESSAGE_CHARS } from "../stores/conversation";
import { SendIcon } from "./icons";

// Drafts survive switching between conversations (not reloads).
const drafts = new Map<string, string>();

export function Composer(props: { conversationId: string; disabled?: boolean; onSend: (text: string) => boolean }) {
  let ta!: HTMLTextAreaElement;
  const [text, setText] = createSignal(drafts.get(props.conversationId) ?? "");
  const tooLong = () => text().length > MESSAGE_CHARS;
  const canSend = () => !props.disabled && text().trim().length > 0 && !tooLong();

  const update = (v: string) => {
    setText(v);
    if (v) drafts.set(props.conversationId, v);
    else drafts.delete(props.conversationId);
  };

  const submit = () => {
    if (!canSend()) return;
    if (props.onSend(text())) update("");
    ta.focus();
  };

  onMount(() => ta.focus({ preventScroll: true }));

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label class="sr-only" for="composer-input">
        Reply
      </label>
      <textarea
        id="composer-input"
        ref={ta}
        rows={1}
        placeholder="Type a reply…"
        title="Enter to send, Shift+Enter for a new line"
        value={text()}
        onInput={(e) => update(e.currentTarget.value)}
        onKeyDown={(e) => {
          // isComposing: Enter that confirms an IME candidate must not send.
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            submit();
          }
        }}
        aria-describedby={tooLong() ? "composer-hint composer-limit" : "composer-hint"}
        data-testid="composer"
      />
      <span id="composer-hint" class="sr-only">
        Enter sends, Shift+Enter starts a new line.
      </span>
      <Show when={text().length > MESSAGE_CHARS - 200}>
        <span id="composer-limit" class="char-count" classList={{ over: tooLong() }}>
          {text().length}/{MESSAGE_CHARS}
        </span>
      </Show>
      <button
        type="submit"
        class="button primary send"
        disabled={!canSend()}
        aria-label="Send message"
        data-testid="send-button"
      >
        <SendIcon />
        <span class="send-label">Send</span>
      </button>
    </form>
  );
}
