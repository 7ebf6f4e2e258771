/**
 * One stored message in the log: a chat bubble (text or a file) with the
 * author beside the first of a group, an email card, or an event line
 * ("Anna joined", a rating with its stars).
 */
import { Match, Show, Switch } from "solid-js";
import type { Message, VisitorRef } from "../../../../worker/protocol";
import { clockTime, stars } from "../../lib/format";
import { AuthorAvatar } from "../avatar";
import { Time } from "../time";
import { Attachment } from "./attachment";
import { EmailMessage } from "./email-message";

function eventText(m: Message): string {
  if (m.text.trim()) return m.text;
  if (m.event === "rated" && m.rating) return `Rated ${m.rating}/5`;
  const who = m.author.name || "An operator";
  return m.event === "left" ? `${who} left` : `${who} joined`;
}

/** The visitor's survey answer, 1–5, if this is a valid "rated" event. */
function ratingOf(m: Message): number | null {
  return m.event === "rated" && typeof m.rating === "number" && m.rating >= 1 && m.rating <= 5 ? m.rating : null;
}

export function MessageItem(props: {
  m: Message;
  meId: string;
  conversationId: string;
  /** First of a group of messages by one author: name and avatar go beside it. */
  showAuthor: boolean;
  visitor: VisitorRef | undefined;
  onMediaLoad: (img: HTMLImageElement) => void;
}) {
  const m = () => props.m;
  const avatar = () => (props.showAuthor ? <AuthorAvatar author={m().author} visitor={props.visitor} /> : undefined);
  const file = () => (m().kind === "file" ? m().file : undefined);
  return (
    <Switch
      fallback={
        <div
          class="event"
          classList={{ "event-rated": ratingOf(m()) !== null }}
          data-testid="message"
          data-seq={m().seq}
          data-role={m().author.role}
          data-kind="event"
          data-event={m().event}
        >
          <Show when={ratingOf(m())}>
            {/* The text says "Rated 4/5" already: the stars are for the eye only. */}
            {(r) => (
              <span class="event-stars" aria-hidden="true" data-testid="rating-stars">
                {stars(r())}
              </span>
            )}
          </Show>
          <span>{eventText(m())}</span>
          <Time at={m().at} as={clockTime} />
        </div>
      }
    >
      <Match when={m().kind !== "event" && m().channel === "email"}>
        <EmailMessage
          m={m()}
          meId={props.meId}
          conversationId={props.conversationId}
          showAuthor={props.showAuthor}
          avatar={avatar()}
          onMediaLoad={props.onMediaLoad}
        />
      </Match>
      <Match when={m().kind !== "event"}>
        <div
          class="msg"
          classList={{
            "msg-visitor": m().author.role === "visitor",
            "msg-operator": m().author.role !== "visitor",
            "msg-own": m().author.id === props.meId,
            "msg-run": !props.showAuthor,
          }}
          data-testid="message"
          data-seq={m().seq}
          data-role={m().author.role}
          data-status="sent"
          data-kind={file() ? "file" : "text"}
        >
          {avatar()}
          <Show when={props.showAuthor && m().author.role !== "visitor"}>
            <div class="msg-author">{m().author.id === props.meId ? `${m().author.name} (you)` : m().author.name}</div>
          </Show>
          <Show when={file()} fallback={<div class="bubble">{m().text}</div>}>
            {(f) => (
              <div class="bubble bubble-file">
                <Attachment
                  file={f()}
                  conversationId={props.conversationId}
                  onMediaLoad={(img) => props.onMediaLoad(img)}
                />
              </div>
            )}
          </Show>
          <div class="msg-meta">
            <Time at={m().at} as={clockTime} />
          </div>
        </div>
      </Match>
    </Switch>
  );
}
