/**
 * Round avatars with a person's letter. A visitor's colour comes from their
 * id, so the same visitor looks the same in the list, the header and beside
 * their messages, named or not; operators are grey.
 */
import type { Author, VisitorRef } from "../../../worker/protocol";
import { avatarColour, personInitial, visitorInitial } from "../lib/format";

export function VisitorAvatar(props: { visitor: VisitorRef; size?: "sm" | "md" | "lg"; online?: boolean }) {
  return (
    <span
      class={`avatar avatar-${props.size ?? "md"} avatar-c${avatarColour(props.visitor.id)}`}
      classList={{ "avatar-online": props.online === true }}
      aria-hidden="true"
    >
      {visitorInitial(props.visitor)}
    </span>
  );
}

export function OperatorAvatar(props: { name: string; size?: "sm" | "md" | "lg" }) {
  return (
    <span class={`avatar avatar-operator avatar-${props.size ?? "md"}`} aria-hidden="true">
      {personInitial(props.name)}
    </span>
  );
}

/**
 * The avatar beside a group of messages by one author: the visitor as the
 * conversation knows them now (their current name), or the operator.
 */
export function AuthorAvatar(props: { author: Author; visitor: VisitorRef | undefined }) {
  const visitor = (): VisitorRef =>
    props.visitor?.id === props.author.id
      ? props.visitor
      : { id: props.author.id, name: props.author.name || null, email: null };
  return (
    <span class="msg-avatar" data-testid="message-avatar" data-role={props.author.role}>
      {props.author.role === "visitor" ? (
        <VisitorAvatar visitor={visitor()} size="sm" />
      ) : (
        <OperatorAvatar name={props.author.name} size="sm" />
      )}
    </span>
  );
}
