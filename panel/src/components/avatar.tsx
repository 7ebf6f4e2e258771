/** Round avatar with a visitor's (or operator's) initial. */
import type { VisitorRef } from "../../../worker/protocol";
import { personInitial, visitorInitial } from "../lib/format";

export function VisitorAvatar(props: { visitor: VisitorRef; size?: "sm" | "md" | "lg"; online?: boolean }) {
  const text = () => visitorInitial(props.visitor);
  return (
    <span
      class={`avatar avatar-${props.size ?? "md"}`}
      classList={{ "avatar-online": props.online === true }}
      aria-hidden="true"
    >
      {text()}
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
