/** A stored file as the conversation shows it: a picture inline, anything else a download card. */
import { createSignal, Show } from "solid-js";
import type { FileRef } from "../../../../worker/protocol";
import { api } from "../../lib/api";
import { fileLabel } from "../../lib/format";
import { FileIcon } from "../icons";

/** A stored file: a picture inline (opens full size), anything else a download card. */
export function Attachment(props: {
  file: FileRef;
  conversationId: string;
  onMediaLoad: (img: HTMLImageElement) => void;
}) {
  // A picture that cannot be shown (removed, or not really a picture) falls back to the card.
  const [broken, setBroken] = createSignal(false);
  const url = (inline: boolean) => api.fileUrl(props.conversationId, props.file.id, inline);
  return (
    <Show
      when={props.file.image && !broken()}
      fallback={
        <a class="file-card" data-testid="file-card" href={url(false)} download={props.file.name}>
          <span class="file-card-icon">
            <FileIcon />
          </span>
          <span class="file-card-text">
            <span class="file-card-name" title={props.file.name}>
              {props.file.name}
            </span>
            <span class="file-card-meta">{fileLabel(props.file)}</span>
          </span>
        </a>
      }
    >
      <a class="message-image-link" href={url(true)} target="_blank" rel="noopener" title="Open full size">
        <img
          class="message-image"
          data-testid="message-image"
          src={url(true)}
          alt={props.file.name}
          loading="lazy"
          onLoad={(e) => props.onMediaLoad(e.currentTarget)}
          onError={() => setBroken(true)}
        />
      </a>
    </Show>
  );
}
