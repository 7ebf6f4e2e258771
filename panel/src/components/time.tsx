/** A moment as the panel shows it: in words ("3 hours ago", "14:05"), the full date on hover, machine-readable in `datetime`. */
import { Show, type JSX } from "solid-js";
import { fullTime, relativeTime } from "../lib/format";

/** `as` writes the moment (relative time unless told); `none` stands in when there is no moment. */
export function Time(props: { at: number | null; as?: (at: number) => string; class?: string; none?: JSX.Element }) {
  return (
    <Show when={props.at} fallback={props.none ?? "—"}>
      {(at) => (
        <time
          class={props.class}
          dateTime={new Date(at()).toISOString()}
          // The full date on hover, written when first hovered: a list of rows would otherwise make the page's
          // first Intl formatter (see lib/format.ts) before anything is shown.
          onPointerEnter={(e) => (e.currentTarget.title = fullTime(at()))}
        >
          {(props.as ?? relativeTime)(at())}
        </time>
      )}
    </Show>
  );
}
