// @tanstack/solid-virtual over the same list: fixed 62 px rows, overscan 10, a list below other content.
import { createVirtualizer } from "@tanstack/solid-virtual";
import { For } from "solid-js";
import { render } from "solid-js/web";

const items = Array.from({ length: 1000 }, (_, i) => i);
function Rows() {
  let list!: HTMLUListElement;
  const v = createVirtualizer({
    count: items.length,
    getScrollElement: () => list.closest<HTMLElement>("[data-scroll-container]"),
    estimateSize: () => 62,
    overscan: 10,
    scrollMargin: 0,
  });
  return (
    <ul ref={list} style={{ height: `${v.getTotalSize()}px` }}>
      <For each={v.getVirtualItems()}>
        {(row) => (
          <li style={{ transform: `translateY(${row.start}px)` }} aria-posinset={row.index + 1}>
            {items[row.index]}
          </li>
        )}
      </For>
    </ul>
  );
}
render(() => <Rows />, document.body);
