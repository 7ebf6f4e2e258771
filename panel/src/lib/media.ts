/** A reactive media query, for layouts that change more than CSS can (what is mounted, not only how it looks). */
import { createSignal, onCleanup, type Accessor } from "solid-js";

export function createMediaQuery(query: string): Accessor<boolean> {
  const list = window.matchMedia(query);
  const [matches, setMatches] = createSignal(list.matches);
  const onChange = (e: MediaQueryListEvent) => setMatches(e.matches);
  list.addEventListener("change", onChange);
  onCleanup(() => list.removeEventListener("change", onChange));
  return matches;
}
