/**
 * The reply box: Enter sends, Shift+Enter starts a new line. The paper clip
 * and a pasted picture send files. Above it, the reply channel (Chat / Email);
 * text and files go out on the channel chosen there.
 */
import { createSignal, onMount, Show } from "solid-js";
import type { Channel } from "../../../../worker/protocol";
import { MESSAGE_CHARS } from "../../stores/conversation-state";
import { ChannelSelect } from "./channel-select";
import { PaperclipIcon, SendIcon } from "../icons";

// Drafts survive switching between conversations (not reloads).
const drafts = new Map<string, string>();

export function Composer(props: {
  conversationId: string;
  disabled?: boolean;
  channel: Channel;
  onChannel: (c: Channel) => void;
  /** The visitor's email address; without one the Email channel is disabled. */
  emailTo: string | null;
  onSend: (text: string) => boolean;
  onFiles: (files: File[]) => void;
}) {
  let ta!: HTMLTextAreaElement;
  let fileInput!: HTMLInputElement;
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

  const byEmail = () => props.channel === "email";

  return (
    <div class="composer-box" classList={{ "by-email": byEmail() }}>
      <div class="composer-bar">
        <span class="composer-bar-label" aria-hidden="true">
          Reply by
        </span>
        <ChannelSelect
          value={props.channel}
          onChange={(c) => {
            props.onChannel(c);
            ta.focus();
          }}
          emailDisabled={props.emailTo ? null : "This visitor has not given an email address"}
          disabled={props.disabled}
        />
      </div>
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <button
          type="button"
          class="icon-button attach"
          aria-label="Attach a file or picture"
          title="Attach a file or picture"
          disabled={props.disabled}
          data-testid="attach-button"
          onClick={() => fileInput.click()}
        >
          <PaperclipIcon />
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          tabIndex={-1}
          disabled={props.disabled}
          data-testid="file-input"
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            // Cleared so that choosing the same file again still fires `change`.
            e.currentTarget.value = "";
            if (files.length) props.onFiles(files);
            ta.focus();
          }}
        />
        <label class="sr-only" for="composer-input">
          Reply
        </label>
        <textarea
          id="composer-input"
          ref={ta}
          rows={1}
          placeholder={byEmail() ? "Write an email reply…" : "Type a reply…"}
          title="Enter to send, Shift+Enter for a new line"
          value={text()}
          onInput={(e) => update(e.currentTarget.value)}
          onPaste={(e) => {
            // A pasted picture (a screenshot) is sent like an attached one. When
            // the clipboard also has text (copied from a document), paste the text.
            const data = e.clipboardData;
            if (!data || data.types.includes("text/plain")) return;
            const files = Array.from(data.files);
            if (files.length === 0) return;
            e.preventDefault();
            props.onFiles(files);
          }}
          onKeyDown={(e) => {
            // isComposing: Enter that confirms an IME candidate must not send.
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
              e.preventDefault();
              submit();
            }
          }}
          aria-describedby={[
            "composer-hint",
            byEmail() ? "composer-channel-hint" : "",
            tooLong() ? "composer-limit" : "",
          ]
            .filter(Boolean)
            .join(" ")}
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
          aria-label={byEmail() ? "Send email" : "Send message"}
          data-testid="send-button"
        >
          <SendIcon />
          <span class="send-label">Send</span>
        </button>
      </form>
      <Show when={byEmail() && props.emailTo}>
        <p id="composer-channel-hint" class="composer-channel-hint" data-testid="channel-hint">
          Replying by email to {props.emailTo}
        </p>
      </Show>
    </div>
  );
}
