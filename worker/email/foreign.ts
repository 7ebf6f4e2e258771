/**
 * Where SVG and MathML content in a mail's HTML begins and ends, as the
 * HTML standard's tree builder has it ("the rules for parsing tokens in
 * foreign content"), so that the text around it is neither lost nor shown
 * when a browser would hide it.
 *
 * Only the open elements inside the foreign root are kept, each with its
 * namespace. What decides where the content ends:
 * - an end tag closes the innermost foreign element of its name, looking no
 *   further than the nearest HTML element; one that matches none is read as
 *   HTML, and may end the content by closing an element it is inside (the
 *   caller knows those);
 * - a start tag of the standard's break-out list (`<p>`, `<div>`, `<b>`,
 *   `<table>`… and `<font>` with `color`, `face` or `size`), and the end
 *   tags `</p>` and `</br>`, pop the foreign elements back to the nearest
 *   integration point or HTML element, and are read again as HTML there;
 * - inside an integration point (SVG `foreignObject`, `desc` and `title`,
 *   MathML `mi`, `mo`, `mn`, `ms`, `mtext`, and `annotation-xml` holding
 *   HTML) start tags are HTML elements again, whose content may be raw text
 *   (`<svg><title><style>`), and an HTML end tag never reaches past the
 *   integration point (it is one of the standard's "special" elements and a
 *   scope's edge).
 *
 * The HTML an integration point holds is kept as simply as where the
 * content ends allows: a `<p>` closed by the next block, a `<select>` taking
 * only its few start tags; no other implied close and no reconstructed
 * formatting element, which change nothing about where the content ends.
 * The tests hold all of it to parse5, the standard's tree builder, on random
 * HTML; where parse5 departs from the standard, this follows parse5 and
 * says so.
 *
 * Cost: each element is pushed and popped once, and every question asked of
 * the stack is a look-up in the positions kept per name, never a search.
 */
import { Positions } from "./positions";

/** Start tags that end foreign content when it is not at an integration point. */
// prettier-ignore
const BREAKOUT = new Set([
  "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed", "h1", "h2", "h3",
  "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s",
  "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var",
]);
/** HTML start tags inside an integration point that open nothing: void elements, and those "in body" ignores. */
// prettier-ignore
export const OPENS_NOTHING = new Set([
  "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input", "keygen",
  "link", "meta", "param", "source", "track", "wbr",
  "body", "caption", "colgroup", "frameset", "head", "html", "tbody", "td", "tfoot", "th", "thead", "tr",
]);
/**
 * Table parts: in a table an integration point's start tag of one of these
 * (and an end tag of one, or of `table`) closes the cell or row, foreign
 * content and all, unless the integration point holds a table of its own;
 * so does a `<table>` start tag, except in a cell or caption (where it nests
 * a table). Only the caller's open elements say whether a table is around,
 * and what of it is innermost; `table` asks.
 */
const TABLE_PARTS = new Set(["caption", "col", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr"]);
/**
 * HTML's "special" elements that an integration point's HTML may hold open
 * (the void ones and those ignored there never are): a close tag's search
 * stops at them.
 */
// prettier-ignore
export const SPECIAL = new Set([
  "address", "applet", "article", "aside", "blockquote", "button", "center", "dd", "details", "dir", "div", "dl", "dt",
  "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
  "iframe", "li", "listing", "main", "marquee", "menu", "nav", "noembed", "noframes", "noscript", "object", "ol", "p",
  "plaintext", "pre", "script", "search", "section", "select", "style", "summary", "table", "template", "textarea",
  "title", "ul", "xmp",
]);
/** Start tags that close an open <p> (the standard's "close a p element" before inserting them). */
// prettier-ignore
export const CLOSES_P = new Set([
  "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "fieldset",
  "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "listing", "main",
  "menu", "nav", "ol", "p", "pre", "search", "section", "summary", "table", "ul", "xmp", "plaintext",
]);
/** In a <select>: the start tags that end it, and those it takes (any other is ignored there). */
export const ENDS_SELECT = new Set(["select", "input", "keygen", "textarea"]);
const IN_SELECT = new Set(["option", "optgroup", "script", "template", "style"]);
/** SVG's HTML integration points (lower case, as the tokenizer hands names on). */
const SVG_POINTS = new Set(["foreignobject", "desc", "title"]);
/** MathML's text integration points. */
const MATH_TEXT = new Set(["mi", "mo", "mn", "ms", "mtext"]);

type Namespace = "svg" | "math" | "html";
interface Element {
  name: string;
  ns: Namespace;
  /** Start tags and text here are read as HTML (an HTML or MathML text integration point). */
  point: boolean;
  /** One of the standard's "special" foreign elements: an HTML end tag's search stops here. */
  edge: boolean;
}

/** In a table's cell or caption; elsewhere in a table (its body or a row); or not in a table. */
export type TablePlace = "cell" | "table" | null;

/** Reads a start tag's attribute by name (lower case), if it has it. */
export type AttributeOf = (name: string) => string | undefined;

export class ForeignContent {
  readonly #stack: Element[] = [];
  /** Where on the stack each kind of element is: `f:name`, `h:name`, "html", "special", "point", "edge". */
  readonly #at = new Positions();
  readonly #work: { steps: number };
  readonly #table: () => TablePlace;

  /** `table`: where in a table, if in one, the caller's open elements outside the foreign content are. */
  constructor(work: { steps: number } = { steps: 0 }, table: () => TablePlace = () => null) {
    this.#work = work;
    this.#table = table;
  }

  /** Whether foreign content is open. */
  get active(): boolean {
    return this.#stack.length > 0;
  }

  /** Whether the element now current is an HTML one (outside foreign content, or HTML inside an integration point). */
  get html(): boolean {
    return (this.#stack.at(-1)?.ns ?? "html") === "html";
  }

  /**
   * A start tag. Outside foreign content only `<svg>` and `<math>` mean
   * anything here (they open it, unless self-closing). Inside, the answer
   * is whether the tag stayed inside: false when it broke out, and the
   * content is ended; the caller then reads the tag as HTML.
   */
  open(name: string, attribute: AttributeOf, selfClosing: boolean): boolean {
    const current = this.#stack.at(-1);
    if (!current) {
      if ((name === "svg" || name === "math") && !selfClosing) this.#push(name, name, attribute);
      return true;
    }
    const mathText = current.ns === "math" && MATH_TEXT.has(current.name);
    const asHtml =
      current.ns === "html" ||
      (current.point && !(mathText && (name === "mglyph" || name === "malignmark"))) ||
      (current.ns === "math" && current.name === "annotation-xml" && name === "svg");
    if (asHtml) return this.#openHtml(name, attribute, selfClosing);
    const fontBreaks = name === "font" && ["color", "face", "size"].some((a) => attribute(a) !== undefined);
    if (BREAKOUT.has(name) || fontBreaks) {
      this.#popToHtml();
      return this.active && this.#openHtml(name, attribute, selfClosing);
    }
    if (!selfClosing) this.#push(name, current.ns, attribute);
    return true;
  }

  /**
   * An end tag inside foreign content. True when it was dealt with here;
   * false when it is to be read as an HTML end tag outside: the content has
   * ended (`</p>`, `</br>`), or it ends when the caller finds the tag closes
   * an element the content is inside (then the caller calls `end`).
   */
  close(name: string): boolean {
    const current = this.#stack.at(-1);
    if (!current) return false;
    if (current.ns !== "html") {
      if (name === "p" || name === "br") {
        this.#popToHtml();
        if (!this.active) return false;
      } else {
        const own = this.#last(`f:${name}`);
        if (own > this.#last("html")) {
          this.#popTo(own);
          return true;
        }
      }
    }
    // Read as HTML: it closes the innermost HTML element of its name short of the nearest integration point;
    // a table part's reaches past that to a table outside (its scope ends only at a table).
    if ((TABLE_PARTS.has(name) || name === "table") && !this.#ownTable() && this.#table()) return false;
    const edge = this.#last("edge");
    const match = this.#last(`h:${name}`);
    if (match > edge) this.#popTo(match);
    // parse5 (which the tests hold this to) also lets it close the integration point of its name itself
    // (`<svg><title><b></title>`) when no special element is open in it, though not `foreignObject`, whose case
    // it keeps; the standard and Chromium leave it open. Either way no text a browser shows is hidden: closing
    // it shows what follows, if anything, sooner.
    else if (
      edge !== -1 &&
      this.#stack[edge]!.name === name &&
      name !== "foreignobject" &&
      this.#last("special") < edge
    ) {
      this.#popTo(edge);
    }
    return edge !== -1;
  }

  /** Ends the content: an end tag outside it closed an element it was inside. */
  end(): void {
    this.#popTo(0);
  }

  /** An HTML start tag at an integration point or HTML element inside; false when it ended the content. */
  #openHtml(name: string, attribute: AttributeOf, selfClosing: boolean): boolean {
    const select = this.#last("h:select");
    if (select > this.#last("edge") && select > this.#last("h:template")) {
      // In a <select> only a few start tags count (a <template> in it holds anything).
      if (ENDS_SELECT.has(name)) this.#popTo(select);
      if (name !== "textarea" && !IN_SELECT.has(name)) return true;
    }
    if (name === "svg" || name === "math") {
      if (!selfClosing) this.#push(name, name, attribute);
    } else if (
      !this.#ownTable() &&
      (TABLE_PARTS.has(name) ? this.#table() : name === "table" && this.#table() === "table")
    ) {
      this.end();
      return false;
    } else if (!OPENS_NOTHING.has(name)) {
      // A <p> open in it is closed by another, or by a block (`<div>`); as where the HTML is outside.
      const p = this.#last("h:p");
      if (CLOSES_P.has(name) && p > this.#last("edge")) this.#popTo(p);
      this.#push(name, "html", attribute); // an HTML element's self-closing slash is ignored (`<div/>` opens one)
    }
    return true;
  }

  /** Whether HTML inside holds a table (or template) of its own, which a table part's tag then belongs to. */
  #ownTable(): boolean {
    return this.#last("h:table") >= 0 || this.#last("h:template") >= 0;
  }

  /** Pops foreign elements until an integration point or an HTML element is current (or none is left). */
  #popToHtml(): void {
    const stop = Math.max(this.#last("point"), this.#last("html"));
    this.#popTo(stop + 1);
  }

  #push(name: string, ns: Namespace, attribute: AttributeOf): void {
    let point = false;
    let edge = false;
    if (ns === "svg") point = edge = SVG_POINTS.has(name);
    else if (ns === "math") {
      const encoding = name === "annotation-xml" ? attribute("encoding")?.toLowerCase() : undefined;
      edge = MATH_TEXT.has(name) || name === "annotation-xml";
      point = MATH_TEXT.has(name) || encoding === "text/html" || encoding === "application/xhtml+xml";
    }
    const element = { name, ns, point, edge };
    this.#at.add(this.#keys(element), this.#stack.push(element) - 1);
  }

  /** Pops every element from position `depth` up. */
  #popTo(depth: number): void {
    while (this.#stack.length > depth) {
      this.#work.steps++;
      this.#at.remove(this.#keys(this.#stack.pop()!));
    }
  }

  #keys(element: Element): string[] {
    const keys = [element.ns === "html" ? `h:${element.name}` : `f:${element.name}`];
    if (element.ns === "html") keys.push("html");
    if (element.ns === "html" && SPECIAL.has(element.name)) keys.push("special");
    if (element.point) keys.push("point");
    if (element.edge) keys.push("edge");
    return keys;
  }

  /** The innermost position of `key` on the stack, or -1. */
  #last(key: string): number {
    return this.#at.last(key);
  }
}
