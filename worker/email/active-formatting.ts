/**
 * The standard's "list of active formatting elements", as far as the
 * sanitiser needs it: which `<b>`, `<font>`, `<a>`… a browser reopens when
 * text or a tag comes after a close tag that closed them without being
 * theirs (`<p><b>x<p>y`: the second paragraph's text is bold again), since a
 * reopened one's close tag still ends SVG or MathML opened inside it. Cells,
 * captions and `<object>`, `<applet>` and `<marquee>` put a marker on the
 * list, and nothing before a marker is reopened inside them.
 *
 * Bounded work: as the standard's "Noah's Ark" clause has it, at most three
 * entries of one name follow the last marker (the standard counts names and
 * attributes; names alone are counted here), so at most 3 × 14 entries
 * follow it, and every look-up below walks no further back than that.
 */

/** The formatting elements. */
// prettier-ignore
export const FORMATTING = new Set([
  "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
]);
/** Elements that put a marker on the list when opened, and clear it back to that marker when closed. */
export const MARKERS = new Set(["td", "th", "caption", "applet", "marquee", "object"]);
const NONE: Entry[] = [];
/** Most entries of one name after the last marker. */
const PER_NAME = 3;

/** An open element, as the list refers to it: whether it is still open, and where. */
export interface Opened {
  readonly name: string;
  readonly at: number;
  open: boolean;
}

/** An entry: a formatting element, the last element opened for it (it changes when reopened). */
export interface Entry {
  readonly name: string;
  element: Opened;
}

export class ActiveFormatting {
  /** Entries, innermost last; `null` is a marker. */
  readonly #list: (Entry | null)[] = [];

  /** Adds a formatting element just opened, dropping the earliest of its name past the last marker when 3 are. */
  add(element: Opened): void {
    let same = 0;
    let earliest = -1;
    for (let i = this.#list.length - 1; i >= 0 && this.#list[i] !== null; i--) {
      if (this.#list[i]!.name === element.name) {
        same++;
        earliest = i;
      }
    }
    if (same >= PER_NAME) this.#list.splice(earliest, 1);
    this.#list.push({ name: element.name, element });
  }

  mark(): void {
    this.#list.push(null);
  }

  /** Removes the entries back to the last marker, and the marker (a cell, caption or object closed). */
  clearToMarker(): void {
    while (this.#list.length > 0 && this.#list.pop() !== null);
  }

  /** The last entry of `name` after the last marker, or null. */
  find(name: string): Entry | null {
    for (let i = this.#list.length - 1; i >= 0 && this.#list[i] !== null; i--) {
      if (this.#list[i]!.name === name) return this.#list[i]!;
    }
    return null;
  }

  remove(entry: Entry): void {
    this.#list.splice(this.#list.lastIndexOf(entry), 1);
  }

  /**
   * The entries whose elements a browser reopens now, in order: those
   * after the last marker and after the last entry whose element is open.
   */
  toReopen(): Entry[] {
    let first = this.#list.length;
    while (first > 0 && this.#list[first - 1] !== null && !this.#list[first - 1]!.element.open) first--;
    return first === this.#list.length ? NONE : (this.#list.slice(first) as Entry[]);
  }
}
