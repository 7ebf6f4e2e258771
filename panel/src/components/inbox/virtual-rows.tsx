/**
 * A list of fixed-height rows that draws only what is in view.
 *
 * Long lists (All can hold every conversation of the workspace) keep their
 * full height, so the scroll bar, "load more on scroll" and the browser's own
 * scroll-into-view keep working, but only the rows near the viewport of the
 * scrolling ancestor exist in the DOM. Until the first measure (in the frame
 * after mounting) a long list draws its first screenful, as it would at the
 * top of the page: the first screen of a full Unassigned (50 rows) creates
 * ~20 rows, not 50 (bench/panel.mjs). Short lists are drawn whole: cheaper
 * than measuring, and find-in-page still sees every row.
 */
import { createEffect, createSignal, For, on, onCleanup, onMount, type JSX } from "solid-js";

/** Height of one row plus the gap under it, in px; `.rows.virtual > li` in styles.css matches it. */
export const ROW_PITCH = 62;
/** Lists up to this length (about two screens) are drawn whole. */
export const VIRTUAL_FROM = 24;
/** Rows drawn above and below the viewport, so Tab and quick scrolls land on real rows. */
const OVERSCAN = 8;

export function VirtualRows<T>(props: {
  items: readonly T[];
  children: (item: T, index: () => number) => JSX.Element;
}) {
  let list!: HTMLUListElement;
  const [range, setRange] = createSignal({ first: 0, last: Math.ceil(window.innerHeight / ROW_PITCH) + OVERSCAN });
  const virtual = () => props.items.length > VIRTUAL_FROM;

  const measure = () => {
    // A short list is drawn whole: reading the layout would only force the browser to lay out the page early.
    if (!virtual()) return;
    const scroller = list.closest<HTMLElement>("[data-scroll-container]") ?? document.documentElement;
    const top = scroller.getBoundingClientRect().top - list.getBoundingClientRect().top; // px of the list above the view
    const height = scroller.clientHeight || window.innerHeight;
    const first = Math.max(0, Math.floor(top / ROW_PITCH) - OVERSCAN);
    const last = Math.max(first, Math.ceil((top + height) / ROW_PITCH) + OVERSCAN);
    const now = range();
    if (now.first !== first || now.last !== last) setRange({ first, last });
  };

  onMount(() => {
    const scroller = list.closest<HTMLElement>("[data-scroll-container]");
    let frame = 0;
    const schedule = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        measure();
      });
    };
    const target: EventTarget = scroller ?? window;
    target.addEventListener("scroll", schedule, { passive: true });
    const resize = new ResizeObserver(schedule);
    resize.observe(scroller ?? document.documentElement);
    schedule();
    // The list grew or shrank (a page loaded, a conversation left): measure once it is laid out.
    createEffect(on(() => props.items.length, schedule, { defer: true }));
    onCleanup(() => {
      target.removeEventListener("scroll", schedule);
      resize.disconnect();
      cancelAnimationFrame(frame);
    });
  });

  /** The rows to draw (store items keep their identity, so rows scrolled past are reused, not redrawn). */
  const offset = () => (virtual() ? range().first : 0);
  const shown = () => (virtual() ? props.items.slice(range().first, range().last) : props.items);

  return (
    <ul
      ref={list}
      class="rows"
      classList={{ virtual: virtual() }}
      style={virtual() ? { height: `${props.items.length * ROW_PITCH}px` } : undefined}
    >
      <For each={shown()}>
        {(item, k) => {
          const index = () => offset() + k();
          return (
            <li
              class="row-slot"
              style={virtual() ? { transform: `translateY(${index() * ROW_PITCH}px)` } : undefined}
              aria-posinset={index() + 1}
              aria-setsize={props.items.length}
            >
              {props.children(item, index)}
            </li>
          );
        }}
      </For>
    </ul>
  );
}
