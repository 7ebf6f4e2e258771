/**
 * Visitor info > Pages viewed: the newest first with time on page, and where
 * the visitor first came from. URLs are shown as text, and are links only
 * when they are http(s).
 */
import { createSignal, For, Show } from "solid-js";
import type { VisitorInfo } from "../../../../worker/protocol";
import { clockTime, duration, safeHref } from "../../lib/format";
import { Time } from "../time";
import { Section } from "./section";

const PAGES_SHOWN = 8;

function PageLink(props: { url: string; class?: string }) {
  return (
    <Show when={safeHref(props.url)} fallback={<span class={`vi-break ${props.class ?? ""}`}>{props.url}</span>}>
      {(href) => (
        <a class={`vi-break ${props.class ?? ""}`} href={href()} target="_blank" rel="noopener noreferrer">
          {props.url}
        </a>
      )}
    </Show>
  );
}

export function PagesSection(props: { info: VisitorInfo; online: boolean }) {
  const [all, setAll] = createSignal(false);
  const items = () => (all() ? props.info.pages.items : props.info.pages.items.slice(0, PAGES_SHOWN));
  return (
    <Section
      title="Pages viewed"
      testId="visitor-pages"
      aside={
        <span class="count" data-testid="visitor-pages-count">
          {props.info.pages.count}
        </span>
      }
    >
      <Show when={props.info.pages.items.length > 0} fallback={<p class="muted small">No page views recorded.</p>}>
        <ol class="vi-pages">
          <For each={items()}>
            {(p, i) => (
              <li class="vi-page" data-testid="visitor-page">
                <span class="vi-page-title">{p.title.trim() || "Untitled page"}</span>
                <PageLink url={p.url} class="vi-page-url small" />
                <span class="muted small">
                  <Time at={p.at} as={clockTime} />
                  {" · "}
                  {p.ms !== null
                    ? `${duration(p.ms)} on page`
                    : i() === 0 && props.online
                      ? "viewing now"
                      : "time on page unknown"}
                </span>
              </li>
            )}
          </For>
        </ol>
        <Show when={props.info.pages.items.length > PAGES_SHOWN}>
          <button type="button" class="link-button small" aria-expanded={all()} onClick={() => setAll(!all())}>
            {all() ? "Show fewer" : `Show all ${props.info.pages.items.length}`}
          </button>
        </Show>
      </Show>
      <p class="vi-referrer small">
        <span class="muted">First came from: </span>
        <Show when={props.info.referrer} fallback={<span>direct visit (no referrer)</span>}>
          {(r) => <PageLink url={r()} />}
        </Show>
      </p>
    </Section>
  );
}
