/**
 * The HTML elements open where the sanitiser is, innermost last: those it
 * writes, those cut for depth, and those it leaves out but a browser keeps
 * open (`<center>`, `<font>`, `<object>`, an unknown `<x>`), since their
 * close tags, and the scopes they make, decide where the content that is
 * skipped (SVG, MathML) ends. What a close tag closes follows the
 * standard's "in body" rules for end tags: most look for their element in
 * scope (a table, cell, caption, `<object>`, `<applet>` or `<marquee>` in
 * between hides it; `</li>` also stops at a list, `</p>` at a button), a
 * heading's closes any heading, and any other stops at the first of the
 * standard's "special" elements in between (`<span><div></span>` closes
 * nothing). A formatting element's close tag closes the one the list of
 * active formatting elements names (./active-formatting.ts), which
 * `reopen` opens again where a browser would (`<p><b><p>x`).
 *
 * Every question is a look-up in the positions kept per kind
 * (./positions.ts), never a search of the stack; each element is pushed and
 * popped once.
 */
import { ActiveFormatting, FORMATTING, MARKERS, type Opened } from "./active-formatting";
import { type TablePlace, SPECIAL } from "./foreign";
import { Positions } from "./positions";

/** The table and its parts: only a table stops their close tags' reach. */
export const TABLE = new Set(["table", "tbody", "tfoot", "thead", "tr", "td", "th", "caption"]);
/** Where a table's cell or caption begins, for `place`. */
const CELL_EDGES = new Set(["table", "td", "th", "caption"]);
/** The edges of the standard's default scope that can be open here (html and template never are). */
const SCOPE_EDGES = new Set(["table", "td", "th", "caption", "applet", "marquee", "object"]);
const HEADINGS = new Set(["h1", "h2", "h3", "h4", "h5", "h6"]);
/** Close tags that close their element only in scope (the standard's end tags with a rule of their own in body). */
// prettier-ignore
const SCOPED = new Set([
  "address", "article", "aside", "blockquote", "button", "center", "details", "dialog", "dir", "div", "dl",
  "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "listing", "main", "menu", "nav", "ol", "pre",
  "search", "section", "summary", "ul", "dd", "dt", "applet", "marquee", "object",
]);

interface Open extends Opened {
  /** One the sanitiser writes, or would but for depth: an allow-listed element. */
  allowed: boolean;
  /** Written out (its close tag is written when it closes). */
  written: boolean;
  keys: string[];
}

export class OpenElements {
  readonly #stack: Open[] = [];
  readonly #at = new Positions();
  readonly #formatting = new ActiveFormatting();

  get depth(): number {
    return this.#stack.length;
  }

  /** The innermost open element's name. */
  get innermost(): string | undefined {
    return this.#stack.at(-1)?.name;
  }

  /** How many allow-listed elements are open (written, or cut for depth). */
  get allowedDepth(): number {
    return this.#at.count("allowed");
  }

  /**
   * The innermost allow-listed element and where it is, past any left out
   * (even a scope's edge: what is written must read back as written, and
   * `<li><li>` with the `<object>` between them left out would not).
   */
  innermostAllowed(): { name: string; at: number } | null {
    const at = this.#at.last("allowed");
    return at >= 0 ? { name: this.#stack[at]!.name, at } : null;
  }

  /** Opens `name`: `allowed` when it is one the sanitiser writes (or would, but for depth), `written` when it did. */
  push(name: string, allowed: boolean, written: boolean): void {
    const keys = [name];
    if (allowed) keys.push("allowed");
    if (name === "table") keys.push("table");
    if (CELL_EDGES.has(name)) keys.push("cell");
    if (SCOPE_EDGES.has(name)) keys.push("scope", "scope:li", "scope:button");
    else if (name === "ol" || name === "ul") keys.push("scope:li");
    else if (name === "button") keys.push("scope:button");
    if (HEADINGS.has(name)) keys.push("heading");
    if (SPECIAL.has(name) || TABLE.has(name)) keys.push("special");
    if (keys.at(-1) === "special" && name !== "address" && name !== "div" && name !== "p") keys.push("special:item");
    if (name === "dd" || name === "dt") keys.push("dd/dt");
    const element = this.#push(name, allowed, written, keys);
    if (FORMATTING.has(name)) this.#formatting.add(element);
    if (MARKERS.has(name)) this.#formatting.mark();
  }

  /** Opens again, left out, the formatting elements a browser reopens here (before text and most start tags). */
  reopen(): void {
    // Each is pushed as a left-out element (no formatting element is special or an edge); its entry now names it.
    for (const entry of this.#formatting.toReopen()) entry.element = this.#push(entry.name, false, false, [entry.name]);
  }

  #push(name: string, allowed: boolean, written: boolean, keys: string[]): Open {
    const element: Open = { name, allowed, written, keys, at: this.#stack.length, open: true };
    this.#at.add(keys, this.#stack.push(element) - 1);
    return element;
  }

  /** Pops every element from position `depth` up, innermost first, handing each to `popped`. */
  popTo(depth: number, popped: (name: string, written: boolean) => void): void {
    while (this.#stack.length > depth) {
      const element = this.#stack.pop()!;
      this.#at.remove(element.keys);
      element.open = false;
      if (MARKERS.has(element.name)) this.#formatting.clearToMarker();
      popped(element.name, element.written);
    }
  }

  /** Where the innermost open `name` is, or -1. */
  find(name: string): number {
    return this.#at.last(name);
  }

  /** Where the innermost open table is, or -1. */
  get table(): number {
    return this.#at.last("table");
  }

  /** In a table's cell or caption, elsewhere in a table, or in none (browsers ignore a table's part outside one). */
  place(): TablePlace {
    if (this.table < 0) return null;
    return this.#stack[this.#at.last("cell")]!.name === "table" ? "table" : "cell";
  }

  /**
   * Where the close tag `</name>` closes to: the position of the element it
   * closes (everything from there up closes with it), or -1 when it closes
   * nothing (see the file's header). `<table><svg></div>` leaves the SVG
   * open; `<div><svg></div>` ends it.
   */
  closes(name: string): number {
    if (TABLE.has(name)) return this.#inScope(this.find(name), "table");
    if (HEADINGS.has(name)) return this.#inScope(this.#at.last("heading"), "scope");
    if (name === "li") return this.#inScope(this.find(name), "scope:li");
    if (name === "p") return this.#inScope(this.find(name), "scope:button");
    if (SCOPED.has(name)) return this.#inScope(this.find(name), "scope");
    if (FORMATTING.has(name)) {
      // The adoption agency's outcome for where the content ends: the entry's element closes, with all inside it.
      const entry = this.#formatting.find(name);
      if (entry && !entry.element.open) this.#formatting.remove(entry);
      if (!entry?.element.open) return entry ? -1 : this.#anyOther(name);
      const at = this.#inScope(entry.element.at, "scope");
      if (at >= 0) this.#formatting.remove(entry);
      return at;
    }
    // `</form>` takes its form out of the stack, wherever it is; here only an innermost one is.
    if (name === "form") return this.#stack.at(-1)?.name === "form" ? this.#stack.length - 1 : -1;
    if (name === "body" || name === "html") return -1;
    return this.#anyOther(name);
  }

  /**
   * Where a `<dd>` or `<dt>` start tag closes an open one: the innermost
   * either, unless a special element other than `<address>`, `<div>` or
   * `<p>` is open inside it; else -1.
   */
  itemCloses(): number {
    const at = this.#at.last("dd/dt");
    return this.#at.last("special:item") > at ? -1 : at;
  }

  /** Any other close tag: the innermost of its name, unless a special element is open inside that. */
  #anyOther(name: string): number {
    const at = this.find(name);
    return this.#at.last("special") > at ? -1 : at;
  }

  /** `at`, if no edge of `scope` is open inside it; else -1. */
  #inScope(at: number, scope: string): number {
    return at >= 0 && this.#at.last(scope) <= at ? at : -1;
  }
}
