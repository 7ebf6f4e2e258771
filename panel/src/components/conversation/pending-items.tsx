/** Messages of ours on their way: a reply waiting for the server (Retry / Discard when refused) and an upload with its progress. */
import { Show } from "solid-js";
import { fileSize } from "../../lib/format";
import type { ConversationActions, PendingMessage, PendingUpload } from "../../stores/conversation-state";
import { FileIcon } from "../icons";
import { EmailBadge } from "./email-parts";

export function PendingItem(props: { p: PendingMessage; actions: ConversationActions }) {
  return (
    <div
      class="msg msg-operator msg-own msg-pending"
      classList={{ "msg-failed": props.p.status === "failed" }}
      data-testid="message"
      data-role="operator"
      data-status={props.p.status}
      data-client-id={props.p.clientId}
      data-channel={props.p.channel}
    >
      <div class="bubble">{props.p.text}</div>
      <div class="msg-meta">
        <Show when={props.p.channel === "email"}>
          <EmailBadge />
        </Show>
        <Show when={props.p.status === "failed"} fallback={<span>Sending…</span>}>
          <span class="error-text">Not sent{props.p.error ? `: ${props.p.error}` : ""}</span>
          <button type="button" class="link-button" onClick={() => props.actions.retry(props.p.clientId)}>
            Retry
          </button>
          <button type="button" class="link-button" onClick={() => props.actions.discard(props.p.clientId)}>
            Discard
          </button>
        </Show>
      </div>
    </div>
  );
}

export function UploadItem(props: { u: PendingUpload; actions: ConversationActions }) {
  const status = () => {
    if (props.u.status === "queued") return "Waiting…";
    return props.u.percent < 100 ? `Uploading… ${props.u.percent}%` : "Processing…";
  };
  return (
    <div
      class="msg msg-operator msg-own msg-pending msg-upload"
      data-testid="message"
      data-role="operator"
      data-status="uploading"
      data-kind="file"
      data-client-id={props.u.clientId}
      data-channel={props.u.channel}
    >
      <div class="bubble upload-bubble">
        <div class="upload-name">
          <FileIcon />
          <span class="upload-text">
            <span class="file-card-name" title={props.u.name}>
              {props.u.name}
            </span>
            <span class="file-card-meta">{fileSize(props.u.size)}</span>
          </span>
        </div>
        <div
          class="progress"
          role="progressbar"
          data-testid="upload-progress"
          aria-label={`Uploading ${props.u.name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={props.u.percent}
        >
          <div class="progress-fill" style={{ width: `${props.u.percent}%` }} />
        </div>
      </div>
      <div class="msg-meta">
        <Show when={props.u.channel === "email"}>
          <EmailBadge />
        </Show>
        <span>{status()}</span>
        <button type="button" class="link-button" onClick={() => props.actions.cancelUpload(props.u.clientId)}>
          Cancel
        </button>
      </div>
    </div>
  );
}
