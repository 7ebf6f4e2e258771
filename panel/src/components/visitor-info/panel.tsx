/**
 * Visitor info, in the upper right of the conversation: where the visitor is
 * (map, place, local time), who they are (name, email, id, editable), whether
 * they are online, the pages they viewed and their browser, system and IP.
 *
 * Someone who only ever wrote by email has none of the web parts: for them
 * the panel shows what is known instead, the address their mail came to and
 * their other conversations (by email address, also shown for web visitors
 * who gave one).
 *
 * Everything here comes from the visitor's browser or the edge and is shown
 * as text; page URLs become links only when they are http(s).
 */
import { createEffect, Match, on, onCleanup, Show, Switch } from "solid-js";
import type { VisitorRef } from "../../../../worker/protocol";
import { createVisitorInfo } from "../../stores/visitor";
import { CloseIcon } from "../icons";
import { InlineError } from "../status";
import { IdentitySection } from "./identity";
import { LocationSection } from "./location";
import { MailSection, ThreadsSection } from "./mail";
import { PagesSection } from "./pages";
import { TechSection } from "./tech";

const REFRESH_MS = 30_000;

export function VisitorInfoPanel(props: {
  conversationId: string;
  /** The visitor as the conversation state has it (carries `verified`). */
  visitor: VisitorRef | null;
  /** Live from the conversation socket; undefined until it answers, null while it is down (not known). */
  online: boolean | null | undefined;
  /** On screen: refresh while true. */
  active: boolean;
  /** Shown as a drawer: a Close button is offered. */
  onClose?: () => void;
}) {
  const [state, actions] = createVisitorInfo(props.conversationId);

  // Load when shown, and again when the conversation's state says the visitor came, left or was renamed.
  createEffect(
    on(
      () => [props.active, props.online, props.visitor?.name, props.visitor?.email] as const,
      ([active]) => {
        if (active) void actions.load();
      },
    ),
  );
  createEffect(() => {
    if (!props.active) return;
    const timer = setInterval(() => void actions.load(), REFRESH_MS);
    onCleanup(() => clearInterval(timer));
  });

  return (
    <div class="visitor-info">
      <div class="visitor-info-head">
        <h2 class="visitor-info-title">Visitor info</h2>
        <Show when={props.onClose}>
          {(close) => (
            <button type="button" class="icon-button" aria-label="Close visitor info" onClick={() => close()()}>
              <CloseIcon />
            </button>
          )}
        </Show>
      </div>
      <Switch>
        <Match when={state.info}>
          {(info) => (
            <>
              <Show when={state.error}>
                <p class="visitor-info-error small" role="status">
                  Could not refresh: {state.error}
                </p>
              </Show>
              <Show when={info().web}>
                <LocationSection info={info()} />
              </Show>
              <IdentitySection
                info={info()}
                verified={props.visitor?.verified}
                online={props.online === undefined ? info().online : props.online}
                onSave={actions.save}
              />
              <Show when={info().mail}>{(mail) => <MailSection mail={mail()} />}</Show>
              <Show when={info().email && (!info().web || (state.threads?.length ?? 0) > 0)}>
                <ThreadsSection threads={state.threads} />
              </Show>
              <Show when={info().web}>
                <PagesSection
                  info={info()}
                  online={props.online === undefined ? info().online : props.online === true}
                />
                <TechSection info={info()} />
              </Show>
            </>
          )}
        </Match>
        <Match when={state.phase === "error"}>
          <InlineError message={state.error} action="Try again" onAction={() => void actions.load()} />
        </Match>
        <Match when={true}>
          <div class="visitor-info-loading" aria-busy="true">
            <span class="skeleton map-skeleton" />
            <span class="skeleton line" />
            <span class="skeleton line short" />
          </div>
        </Match>
      </Switch>
    </div>
  );
}
