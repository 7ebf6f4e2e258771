/**
 * Where the visitor info goes: a column beside the messages on wide screens,
 * a drawer opened with a button otherwise (focus moves into it when it
 * opens, Escape closes it and gives focus back to the button).
 */
import { createEffect, createSignal, on, Show } from "solid-js";
import type { VisitorRef } from "../../../../worker/protocol";
import { createMediaQuery } from "../../lib/media";
import { VisitorInfoPanel } from "../visitor-info/panel";

export function createInfoDrawer() {
  const wide = createMediaQuery("(min-width: 1100px)");
  const [open, setOpen] = createSignal(false);
  let toggle: HTMLButtonElement | undefined;
  let aside: HTMLElement | undefined;
  const close = () => {
    setOpen(false);
    toggle?.focus();
  };
  createEffect(on(open, (now) => now && !wide() && queueMicrotask(() => aside?.focus())));
  return {
    /** A column (wide screens), not a drawer. */
    wide,
    open,
    toggle: () => (open() ? close() : setOpen(true)),
    close,
    toggleRef: (el: HTMLButtonElement) => (toggle = el),
    asideRef: (el: HTMLElement) => (aside = el),
  };
}

export type InfoDrawer = ReturnType<typeof createInfoDrawer>;

export function VisitorAside(props: {
  drawer: InfoDrawer;
  id: string;
  conversationId: string;
  visitor: VisitorRef | null;
  /** Live from the conversation socket: undefined until it answers, null while it is down. */
  online: boolean | null | undefined;
  shown: boolean;
}) {
  const d = props.drawer;
  return (
    <Show when={props.shown}>
      <aside
        id={props.id}
        ref={d.asideRef}
        class="visitor-aside"
        aria-label="Visitor info"
        data-testid="visitor-info"
        tabIndex={-1}
        onKeyDown={(e) => {
          if (e.key === "Escape" && !d.wide()) {
            e.stopPropagation();
            d.close();
          }
        }}
      >
        <VisitorInfoPanel
          conversationId={props.conversationId}
          visitor={props.visitor}
          online={props.online}
          active={props.shown}
          onClose={d.wide() ? undefined : d.close}
        />
      </aside>
    </Show>
  );
}
