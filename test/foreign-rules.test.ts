/**
 * Where SVG and MathML content ends (worker/email/foreign.ts) and the
 * sanitiser's open HTML elements (worker/email/open-elements.ts), rule by
 * rule, called directly; then the tokenizer's script text and CDATA, and
 * where the skipped <select> and <template> end (worker/email/html.ts). `html-rules` and the random tests in `email-linear`
 * hold the sanitiser's output to parse5; these name each list and rule, so
 * dropping a name from one fails here.
 *
 * What a scenario shows: whether each tag stayed inside the foreign content,
 * whether the element now current is an HTML one, and how many elements were
 * open at the end (`end()` pops them all, one step each).
 */
import { describe, expect, it } from "vitest";
import { ForeignContent, type TablePlace } from "../worker/email/foreign";
import { htmlToText, sanitizeEmailHtml } from "../worker/email/html";
import { ActiveFormatting, type Opened } from "../worker/email/active-formatting";
import { OpenElements } from "../worker/email/open-elements";
import { Positions } from "../worker/email/positions";

/** A tag as written: `<name>`, `<name/>`, `</name>`, or `<name a=value>` with one attribute. */
function tag(written: string): { close: boolean; name: string; selfClosing: boolean; attributes: Map<string, string> } {
  const m = /^<(\/?)([a-z0-9-]+)(?: ([a-z]+)=(\S+?))?(\/?)>$/i.exec(written);
  if (!m) throw new Error(`not a tag: ${written}`);
  const attributes = new Map<string, string>();
  if (m[3]) attributes.set(m[3], m[4]!);
  return { close: m[1] === "/", name: m[2]!.toLowerCase(), selfClosing: m[5] === "/", attributes };
}

/** Feeds `tags` to a fresh ForeignContent; what each answered, then whether HTML is current, and how deep it was. */
function run(tags: string[], table: TablePlace = null) {
  const work = { steps: 0 };
  const foreign = new ForeignContent(work, () => table);
  const answers = tags.map((written) => {
    const t = tag(written);
    return t.close ? foreign.close(t.name) : foreign.open(t.name, (a) => t.attributes.get(a), t.selfClosing);
  });
  const html = foreign.html;
  const active = foreign.active;
  const before = work.steps;
  foreign.end();
  return { answers, html, active, depth: work.steps - before, last: answers.at(-1) };
}

// The standard's lists, written out here apart from the code.
// prettier-ignore
const BREAKOUT = ["b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed", "h1",
  "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr", "ol", "p", "pre",
  "ruby", "s", "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var"];
// prettier-ignore
const VOID_OR_IGNORED = ["area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
  "input", "keygen", "link", "meta", "param", "source", "track", "wbr", "body", "caption", "colgroup", "frameset",
  "head", "html", "tbody", "td", "tfoot", "th", "thead", "tr"];
// prettier-ignore
const SPECIAL = ["address", "applet", "article", "aside", "blockquote", "button", "center", "dd", "details", "dir",
  "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
  "hgroup", "iframe", "li", "listing", "main", "marquee", "menu", "nav", "noembed", "noframes", "noscript", "object",
  "ol", "p", "plaintext", "pre", "script", "search", "section", "select", "style", "summary", "table", "template",
  "textarea", "title", "ul", "xmp"];
// prettier-ignore
const CLOSES_P = ["address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
  "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
  "listing", "main", "menu", "nav", "ol", "p", "pre", "search", "section", "summary", "table", "ul", "xmp",
  "plaintext"];
const TABLE_PARTS = ["caption", "col", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr"];

describe("ForeignContent: where SVG and MathML begin", () => {
  it("only <svg> and <math> open it, and not when self-closing; outside it HTML is current and a close is not its", () => {
    expect(run(["<svg>"])).toMatchObject({ active: true, html: false, depth: 1 });
    expect(run(["<math>"])).toMatchObject({ active: true, html: false, depth: 1 });
    expect(run(["<svg/>"])).toMatchObject({ answers: [true], active: false, html: true, depth: 0 });
    expect(run(["<math/>"])).toMatchObject({ active: false, depth: 0 });
    expect(run(["<div>", "<g>"])).toMatchObject({ answers: [true, true], active: false, html: true, depth: 0 });
    expect(run(["</svg>"])).toMatchObject({ answers: [false], active: false });
  });

  it("inside, an element opens in its parent's namespace unless self-closing; its own close tag pops it", () => {
    expect(run(["<svg>", "<g>", "<g/>", "<rect>"])).toMatchObject({ depth: 3, html: false });
    expect(run(["<svg>", "<g>", "<rect>", "</g>"])).toMatchObject({ answers: [true, true, true, true], depth: 1 });
    expect(run(["<svg>", "<g>", "</svg>"])).toMatchObject({ active: false, last: true });
    // <math> inside SVG is SVG's element of that name, not a second root: its </svg> ends the content.
    expect(run(["<svg>", "<math>", "<mi>", "<div>"])).toMatchObject({ last: false, active: false });
  });
});

describe("ForeignContent: the break-out tags", () => {
  it.each(BREAKOUT)("<%s> ends SVG and MathML outside an integration point, and is read as HTML", (name) => {
    expect(run(["<svg>", "<g>", `<${name}>`])).toMatchObject({ last: false, active: false, depth: 0 });
    expect(run(["<math>", "<mrow>", `<${name}>`])).toMatchObject({ last: false, active: false });
  });

  it("other start tags stay in: a, font without color, face or size, title, svg", () => {
    for (const name of ["a", "font", "g", "title", "svg", "article", "x"]) {
      expect(run(["<svg>", `<${name}>`]), name).toMatchObject({ last: true, active: true, depth: 2 });
    }
    expect(run(["<svg>", "<font class=x>"])).toMatchObject({ last: true, depth: 2 });
  });

  it("<font> with color, face or size ends it", () => {
    for (const attribute of ["color", "face", "size"]) {
      expect(run(["<svg>", `<font ${attribute}=x>`]), attribute).toMatchObject({ last: false, active: false });
    }
  });

  it("</p> and </br> pop to the nearest integration point or HTML element; with none, the content ends", () => {
    for (const name of ["p", "br"]) {
      expect(run(["<svg>", "<g>", `</${name}>`]), name).toMatchObject({ last: false, active: false });
      expect(run(["<svg>", "<desc>", "<svg>", "<g>", `</${name}>`]), name).toMatchObject({ last: true, depth: 2 });
      expect(run(["<svg>", "<desc>", "<b>", "<svg>", "<g>", `</${name}>`]), name).toMatchObject({
        last: true,
        html: true,
        depth: 3,
      });
    }
    // Other close tags matching nothing are left to the caller, the content still open.
    expect(run(["<svg>", "<g>", "</div>"])).toMatchObject({ last: false, active: true, depth: 2 });
  });

  it("a close tag closes the innermost foreign element of its name, looking no further than an HTML element", () => {
    expect(run(["<svg>", "<g>", "<a>", "<g>", "</a>"])).toMatchObject({ last: true, depth: 2 });
    // A <g> below the HTML <b> is out of its reach: read as HTML, it stops at the title.
    expect(run(["<svg>", "<g>", "<title>", "<b>", "<svg>", "</g>"])).toMatchObject({ last: true, depth: 5 });
    expect(run(["<svg>", "<g>", "<title>", "<b>", "<svg>", "<g>", "</g>"])).toMatchObject({ last: true, depth: 5 });
  });
});

describe("ForeignContent: integration points", () => {
  it("SVG's foreignObject, desc and title read start tags as HTML; its other elements do not", () => {
    for (const point of ["foreignObject", "desc", "title"]) {
      expect(run(["<svg>", `<${point}>`, "<div>"]), point).toMatchObject({ last: true, html: true, depth: 3 });
    }
    expect(run(["<svg>", "<text>", "<div>"])).toMatchObject({ last: false, active: false });
    // In MathML a title is no integration point.
    expect(run(["<math>", "<title>", "<div>"])).toMatchObject({ last: false, active: false });
  });

  it("MathML's mi, mo, mn, ms and mtext read start tags as HTML, except mglyph and malignmark", () => {
    for (const point of ["mi", "mo", "mn", "ms", "mtext"]) {
      expect(run(["<math>", `<${point}>`, "<div>"]), point).toMatchObject({ last: true, html: true, depth: 3 });
      for (const name of ["mglyph", "malignmark"]) {
        expect(run(["<math>", `<${point}>`, `<${name}>`]), `${point} ${name}`).toMatchObject({ html: false, depth: 3 });
      }
    }
    expect(run(["<math>", "<mrow>", "<div>"])).toMatchObject({ last: false, active: false });
    // In SVG an mi is no integration point.
    expect(run(["<svg>", "<mi>", "<div>"])).toMatchObject({ last: false, active: false });
  });

  it("MathML's annotation-xml is one when it holds HTML (by its encoding, in any case); <svg> in it opens SVG", () => {
    for (const encoding of ["text/html", "TEXT/HTML", "application/xhtml+xml", "Application/XHTML+XML"]) {
      expect(run(["<math>", `<annotation-xml encoding=${encoding}>`, "<div>"]), encoding).toMatchObject({
        last: true,
        html: true,
      });
      // mglyph there is HTML too: the exception is only a text integration point's.
      expect(run(["<math>", `<annotation-xml encoding=${encoding}>`, "<mglyph>"])).toMatchObject({ html: true });
    }
    for (const encoding of ["image/svg+xml", "text/htmlx"]) {
      expect(run(["<math>", `<annotation-xml encoding=${encoding}>`, "<div>"]), encoding).toMatchObject({
        last: false,
      });
    }
    expect(run(["<math>", "<annotation-xml>", "<div>"])).toMatchObject({ last: false });
    // <svg> in annotation-xml is an SVG root, whose title is an integration point; elsewhere in MathML it is not.
    expect(run(["<math>", "<annotation-xml>", "<svg>", "<title>", "<div>"])).toMatchObject({ last: true, html: true });
    expect(run(["<math>", "<mrow>", "<svg>", "<title>", "<div>"])).toMatchObject({ last: false, active: false });
    expect(run(["<svg>", "<annotation-xml>", "<svg>", "<title>", "<div>"])).toMatchObject({ last: true, depth: 5 });
  });

  it("HTML in an integration point: <svg> and <math> open roots, self-closing ones nothing; an HTML /> is ignored", () => {
    expect(run(["<svg>", "<title>", "<svg>", "<g>"])).toMatchObject({ html: false, depth: 4 });
    expect(run(["<svg>", "<title>", "<math>", "<mi>"])).toMatchObject({ html: false, depth: 4 });
    expect(run(["<svg>", "<title>", "<svg/>"])).toMatchObject({ html: false, depth: 2 });
    expect(run(["<svg>", "<title>", "<math/>"])).toMatchObject({ depth: 2 });
    expect(run(["<svg>", "<title>", "<div/>"])).toMatchObject({ html: true, depth: 3 });
  });

  it.each(VOID_OR_IGNORED)("<%s> there opens nothing (void, or ignored in a body)", (name) => {
    expect(run(["<svg>", "<title>", `<${name}>`])).toMatchObject({ last: true, html: false, depth: 2 });
  });

  it("an HTML close tag there closes the innermost HTML element of its name, never past the integration point", () => {
    expect(run(["<svg>", "<title>", "<b>", "<i>", "</b>"])).toMatchObject({ last: true, depth: 2 });
    expect(run(["<svg>", "<b>"])).toMatchObject({ active: false });
    expect(run(["<b>", "<svg>", "<title>", "</b>"])).toMatchObject({ last: true, depth: 2 });
    expect(run(["<svg>", "<title>", "<b>", "</svg>"])).toMatchObject({ last: true, depth: 3 });
    // The title's own close tag closes it (as parse5 has it) unless a special HTML element is open in it.
    expect(run(["<svg>", "<title>", "<b>", "</title>"])).toMatchObject({ last: true, depth: 1 });
    expect(run(["<svg>", "<desc>", "<span>", "</desc>"])).toMatchObject({ last: true, depth: 1 });
    expect(run(["<math>", "<mi>", "<span>", "</mi>"])).toMatchObject({ last: true, depth: 1 });
    expect(run(["<svg>", "<title>", "<b>", "</desc>"])).toMatchObject({ last: true, depth: 3 });
    // parse5 keeps foreignObject's case, so its lower-case close tag never matches it from HTML.
    expect(run(["<svg>", "<foreignObject>", "<b>", "</foreignObject>"])).toMatchObject({ last: true, depth: 3 });
    expect(run(["<svg>", "<foreignObject>", "</foreignObject>"])).toMatchObject({ last: true, depth: 1 });
  });

  it.each(SPECIAL)("a special <%s> open in it keeps its close tag from closing the integration point", (name) => {
    expect(run(["<svg>", "<desc>", `<${name}>`, "</desc>"])).toMatchObject({ last: true, html: true, depth: 3 });
  });

  it.each(CLOSES_P)("<%s> there closes an open <p> first", (name) => {
    expect(run(["<svg>", "<title>", "<p>", `<${name}>`, `</${name}>`])).toMatchObject({ html: false, depth: 2 });
  });

  it("other start tags leave the <p> open; a <p> outside the integration point is not closed", () => {
    expect(run(["<svg>", "<title>", "<p>", "<span>", "</span>"])).toMatchObject({ html: true, depth: 3 });
    expect(run(["<svg>", "<title>", "<p>", "<desc>", "<svg>", "<title>", "<p>"])).toMatchObject({ depth: 7 });
  });

  it("a <select> there takes only option, optgroup, script, template and style; select, input, keygen, textarea end it", () => {
    for (const name of ["option", "optgroup", "script", "template", "style"]) {
      expect(run(["<svg>", "<title>", "<select>", `<${name}>`]), name).toMatchObject({ depth: 4 });
    }
    for (const name of ["div", "svg", "b", "x"]) {
      expect(run(["<svg>", "<title>", "<select>", `<${name}>`]), name).toMatchObject({ last: true, depth: 3 });
    }
    for (const name of ["select", "input", "keygen"]) {
      expect(run(["<svg>", "<title>", "<select>", `<${name}>`]), name).toMatchObject({ html: false, depth: 2 });
    }
    expect(run(["<svg>", "<title>", "<select>", "<textarea>"])).toMatchObject({ html: true, depth: 3 });
    // A <template> in the <select> holds anything; a <select> outside the integration point is not this one's.
    const nested = ["<svg>", "<title>", "<select>", "<template>", "<svg>", "<title>", "<div>"];
    expect(run(nested)).toMatchObject({ html: true, depth: 7 });
    expect(run([...nested, "<select>", "<b>"])).toMatchObject({ depth: 8 });
    expect(run([...nested, "<b>"])).toMatchObject({ depth: 8 });
  });
});

describe("ForeignContent: in a table", () => {
  it.each(TABLE_PARTS)(
    "<%s> at an integration point ends the content in a table, and opens nothing outside one",
    (name) => {
      for (const place of ["cell", "table"] as const) {
        expect(run(["<svg>", "<title>", `<${name}>`], place), place).toMatchObject({ last: false, active: false });
      }
      expect(run(["<svg>", "<title>", `<${name}>`])).toMatchObject({ last: true, html: false, depth: 2 });
      // A table in the integration point takes it.
      expect(run(["<svg>", "<title>", "<table>", `<${name}>`], "cell")).toMatchObject({ last: true, depth: 3 });
      // Outside an integration point it is SVG's element.
      expect(run(["<svg>", `<${name}>`], "cell")).toMatchObject({ last: true, depth: 2 });
    },
  );

  it("<table> ends it in a table's body or row, and nests in a cell; a <template> in it takes the parts too", () => {
    expect(run(["<svg>", "<title>", "<table>"], "table")).toMatchObject({ last: false, active: false });
    expect(run(["<svg>", "<title>", "<table>"], "cell")).toMatchObject({ last: true, depth: 3 });
    expect(run(["<svg>", "<title>", "<table>"])).toMatchObject({ last: true, depth: 3 });
    expect(run(["<svg>", "<title>", "<template>", "<td>"], "cell")).toMatchObject({ last: true, depth: 3 });
    expect(run(["<svg>", "<title>", "<template>", "<table>"], "table")).toMatchObject({ last: true, depth: 4 });
  });

  it("a table part's close tag is left to the caller in a table, from anywhere inside, unless a table inside is its", () => {
    for (const name of [...TABLE_PARTS, "table"]) {
      expect(run(["<svg>", "<title>", "<b>", `</${name}>`], "cell"), name).toMatchObject({ last: false, depth: 3 });
      expect(run(["<svg>", "<title>", "<b>", `</${name}>`]), name).toMatchObject({ last: true, depth: 3 });
      expect(run(["<svg>", "<title>", "<table>", `</${name}>`], "cell"), name).toMatchObject({ last: true });
    }
    expect(run(["<svg>", "<title>", "<table>", "</table>"], "cell")).toMatchObject({ depth: 2 });
    expect(run(["<svg>", "<title>", "<b>", "</div>"], "cell")).toMatchObject({ last: true, depth: 3 });
  });
});

describe("ForeignContent: the work", () => {
  it("each element is a step when popped, once; ending pops what is left", () => {
    const work = { steps: 0 };
    const foreign = new ForeignContent(work);
    const none = () => undefined;
    foreign.open("svg", none, false);
    foreign.open("g", none, false);
    foreign.open("g", none, false);
    foreign.close("x");
    expect(work.steps).toBe(0);
    foreign.close("g");
    expect(work.steps).toBe(1);
    foreign.end();
    expect(work.steps).toBe(3);
    foreign.end();
    expect(work.steps).toBe(3);
    expect(foreign.close("svg")).toBe(false);
  });

  it("a default work counter and table place serve when none is given", () => {
    const foreign = new ForeignContent();
    foreign.open("svg", () => undefined, false);
    foreign.open("title", () => undefined, false);
    expect(foreign.open("td", () => undefined, false)).toBe(true);
    expect(foreign.close("svg")).toBe(true);
    expect(foreign.active).toBe(false);
  });
});

describe("OpenElements", () => {
  const popAll = (open: OpenElements, depth: number) => {
    const popped: [string, boolean][] = [];
    open.popTo(depth, (name, written) => popped.push([name, written]));
    return popped;
  };
  /** A stack of `names`, each written and allowed unless listed in `left` (left out). */
  const stack = (names: string[], left: string[] = []) => {
    const open = new OpenElements();
    for (const name of names) open.push(name, !left.includes(name), !left.includes(name));
    return open;
  };

  it("keeps what is open in order, finds the innermost of a name, and pops from the top saying which were written", () => {
    const open = new OpenElements();
    expect([open.depth, open.allowedDepth, open.innermost, open.innermostAllowed(), open.find("b")]).toEqual([
      0,
      0,
      undefined,
      null,
      -1,
    ]);
    expect([open.table, open.place()]).toEqual([-1, null]);
    open.push("div", true, true);
    open.push("b", true, false); // cut for depth
    open.push("font", false, false); // left out
    open.push("b", true, true);
    expect([open.depth, open.allowedDepth, open.innermost, open.find("b"), open.find("div"), open.find("u")]).toEqual([
      4,
      3,
      "b",
      3,
      0,
      -1,
    ]);
    expect(popAll(open, 2)).toEqual([
      ["b", true],
      ["font", false],
    ]);
    expect([open.depth, open.allowedDepth, open.find("b"), open.find("font"), open.innermost]).toEqual([
      2,
      2,
      1,
      -1,
      "b",
    ]);
    expect(popAll(open, 5)).toEqual([]);
    expect(popAll(open, 0)).toEqual([
      ["b", false],
      ["div", true],
    ]);
    expect([open.depth, open.allowedDepth]).toEqual([0, 0]);
  });

  it("the innermost allowed element is found past left-out ones, scope's edges too", () => {
    const open = stack(["p", "font", "span2"], ["font", "span2"]);
    expect(open.innermostAllowed()).toEqual({ name: "p", at: 0 });
    open.push("object", false, false);
    expect(open.innermostAllowed()).toEqual({ name: "p", at: 0 });
    open.push("b", true, false); // cut for depth: allowed
    expect(open.innermostAllowed()).toEqual({ name: "b", at: 4 });
  });

  it("says where in a table it is: a cell or caption, elsewhere in a table, or none; forgets a table once closed", () => {
    const open = stack(["div", "td"]); // a cell outside a table: the sanitiser never pushes one, but it is no table
    expect([open.place(), open.table]).toEqual([null, -1]);
    open.push("table", true, true);
    expect([open.place(), open.table]).toEqual(["table", 2]);
    for (const [part, place] of [
      ["tbody", "table"],
      ["tr", "table"],
      ["td", "cell"],
    ] as const) {
      open.push(part, true, true);
      expect(open.place(), part).toBe(place);
    }
    open.push("b", true, true); // popping what is no table part leaves the cell the innermost
    popAll(open, 6);
    expect(open.place()).toBe("cell");
    popAll(open, 5);
    expect(open.place()).toBe("table");
    open.push("th", true, true);
    expect(open.place()).toBe("cell");
    popAll(open, 5);
    open.push("caption", true, true);
    expect(open.place()).toBe("cell");
    open.push("object", false, false); // an edge of scope, but no cell
    expect(open.place()).toBe("cell");
    popAll(open, 6);
    open.push("table", true, true);
    expect([open.place(), open.table]).toEqual(["table", 6]);
    popAll(open, 6);
    expect([open.place(), open.table]).toEqual(["cell", 2]);
    popAll(open, 2);
    expect([open.place(), open.table]).toEqual([null, -1]);
  });

  it("a table part's close tag reaches its element unless a table is in between", () => {
    const open = stack(["div", "table", "tr", "td", "b"]);
    expect(["td", "tr", "table", "tbody", "caption"].map((name) => open.closes(name))).toEqual([3, 2, 1, -1, -1]);
    open.push("caption", true, true);
    expect(open.closes("td")).toBe(3);
    open.push("table", true, true);
    expect(["tr", "caption", "table"].map((name) => open.closes(name))).toEqual([-1, -1, 6]);
  });

  it("the close tags with a rule of their own close their element in scope: a table, cell, caption, object, applet or marquee hides it", () => {
    // prettier-ignore
    const scoped = [
      "address", "article", "aside", "blockquote", "button", "center", "details", "dialog", "dir", "div", "dl",
      "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "listing", "main", "menu", "nav", "ol", "pre",
      "search", "section", "summary", "ul", "dd", "dt", "applet", "marquee", "object",
      "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
    ];
    for (const name of scoped) {
      // A special element inside does not stop it (it would stop any other close tag)…
      expect(stack([name, "span", name === "dl" ? "ul" : "dl"]).closes(name), name).toBe(0);
      // …an edge of scope does.
      for (const edge of ["table", "td", "th", "caption", "object", "applet", "marquee"]) {
        if (edge !== name) expect(stack([name, edge]).closes(name), `${name} ${edge}`).toBe(-1);
      }
    }
    // Lists and buttons are no edges for them.
    expect(stack(["div", "ul", "ol", "button"]).closes("div")).toBe(0);
  });

  it("</li> also stops at a list, </p> at a button; a heading's close tag closes whichever heading is open", () => {
    expect(stack(["li", "b"]).closes("li")).toBe(0);
    expect(stack(["li", "ul"]).closes("li")).toBe(-1);
    expect(stack(["li", "ol"]).closes("li")).toBe(-1);
    expect(stack(["li", "object"]).closes("li")).toBe(-1);
    expect(stack(["li", "button"]).closes("li")).toBe(0);
    expect(stack(["p", "div"]).closes("p")).toBe(0);
    expect(stack(["p", "button"]).closes("p")).toBe(-1);
    expect(stack(["p", "td"]).closes("p")).toBe(-1);
    expect(stack(["p", "ul"]).closes("p")).toBe(0);
    for (const open of ["h1", "h2", "h3", "h4", "h5", "h6"]) {
      for (const close of ["h1", "h2", "h3", "h4", "h5", "h6"]) {
        expect(stack(["div", open, "b"]).closes(close), `${open} ${close}`).toBe(1);
      }
      expect(stack([open, "table"]).closes("h1"), open).toBe(-1);
    }
    expect(stack(["div", "h1", "b", "h2"]).closes("h1")).toBe(3); // the innermost heading
    expect(stack(["div", "b"]).closes("h1")).toBe(-1);
  });

  it("any other close tag closes the innermost of its name unless a special element is open inside it", () => {
    expect(stack(["div", "span", "b", "x"]).closes("span")).toBe(1);
    expect(stack(["span", "x"], ["x"]).closes("x")).toBe(1);
    expect(stack(["span", "x"], ["x"]).closes("y")).toBe(-1);
    // prettier-ignore
    const special = [
      "address", "applet", "article", "aside", "blockquote", "button", "center", "dd", "details", "dir", "div", "dl",
      "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h6", "header", "hgroup", "li", "listing",
      "main", "marquee", "menu", "nav", "object", "ol", "p", "pre", "search", "section", "summary", "table", "ul",
      "tbody", "tfoot", "thead", "tr", "td", "th", "caption",
    ];
    for (const name of special) expect(stack(["span", "b", name]).closes("span"), name).toBe(-1);
    expect(stack(["span", "div", "sub"]).closes("sub")).toBe(2); // a special element outside it is no matter
  });

  it("</form> closes only an innermost form; </body> and </html> close nothing", () => {
    expect(stack(["div", "form"]).closes("form")).toBe(1);
    expect(stack(["form", "b"]).closes("form")).toBe(-1);
    expect(stack(["body", "b"]).closes("body")).toBe(-1);
    expect(stack(["html", "b"]).closes("html")).toBe(-1);
    expect(stack([]).closes("form")).toBe(-1);
  });
});

describe("ActiveFormatting", () => {
  const el = (name: string, open = true): Opened => ({ name, at: 0, open });
  const names = (list: ActiveFormatting) => list.toReopen().map((e) => e.name);

  it("reopens the entries after the last marker and after the last whose element is open, in order", () => {
    const list = new ActiveFormatting();
    expect(names(list)).toEqual([]);
    const b = el("b");
    const i = el("i");
    list.add(b);
    list.add(i);
    expect(names(list)).toEqual([]); // both open
    i.open = false;
    expect(names(list)).toEqual(["i"]);
    b.open = false;
    expect(names(list)).toEqual(["b", "i"]);
    list.mark();
    expect(names(list)).toEqual([]); // nothing before a marker
    const u = el("u", false);
    list.add(u);
    expect(names(list)).toEqual(["u"]);
    list.clearToMarker();
    expect(names(list)).toEqual(["b", "i"]);
    list.clearToMarker(); // no marker left: empties the list
    expect(names(list)).toEqual([]);
    list.clearToMarker();
    expect(names(list)).toEqual([]);
  });

  it("finds the last entry of a name after the last marker, and removes that entry", () => {
    const list = new ActiveFormatting();
    const outer = el("b", false);
    list.add(outer);
    expect(list.find("b")?.element).toBe(outer);
    expect(list.find("i")).toBe(null);
    list.mark();
    expect(list.find("b")).toBe(null);
    const inner = el("b", false);
    const i = el("i", false);
    list.add(inner);
    list.add(i);
    expect(list.find("b")?.element).toBe(inner);
    list.remove(list.find("b")!);
    expect(list.find("b")).toBe(null);
    expect(names(list)).toEqual(["i"]);
    list.clearToMarker();
    list.remove(list.find("b")!);
    expect(names(list)).toEqual([]);
  });

  it("keeps at most three entries of one name after the last marker, dropping the earliest", () => {
    const list = new ActiveFormatting();
    const bs = [1, 2, 3, 4].map(() => el("b", false));
    list.add(bs[0]!);
    list.mark();
    for (const b of bs.slice(1)) list.add(b);
    list.add(el("i", false));
    expect(names(list)).toEqual(["b", "b", "b", "i"]); // three after the marker, the one before kept
    list.add(el("b", false));
    expect(list.toReopen().map((e) => e.element)).toEqual([bs[2], bs[3], expect.anything(), expect.anything()]);
    expect(names(list)).toEqual(["b", "b", "i", "b"]);
    list.clearToMarker();
    expect(list.toReopen().map((e) => e.element)).toEqual([bs[0]]);
  });
});

describe("OpenElements and the formatting elements", () => {
  it("a formatting element's close tag closes the element its entry names; one not open is dropped from the list", () => {
    const open = new OpenElements();
    open.push("p", true, true);
    open.push("b", true, true);
    open.popTo(0, () => undefined); // `</p>`: the <b> closes too, and stays on the list
    expect(open.depth).toBe(0);
    open.reopen();
    expect([open.depth, open.innermost, open.allowedDepth]).toEqual([1, "b", 0]);
    open.reopen(); // it is open now: nothing more
    expect(open.depth).toBe(1);
    expect(open.closes("b")).toBe(0);
    open.popTo(0, () => undefined);
    open.reopen(); // its entry went with its close tag
    expect(open.depth).toBe(0);
    // An entry whose element is closed: its close tag drops it and closes nothing.
    open.push("p", true, true);
    open.push("i", true, true);
    open.popTo(0, () => undefined);
    expect(open.closes("i")).toBe(-1);
    open.reopen();
    expect(open.depth).toBe(0);
  });

  it("not in scope, the close tag closes nothing and the entry stays; with no entry it is any other close tag", () => {
    const open = new OpenElements();
    open.push("b", true, true);
    open.push("table", true, true);
    expect(open.closes("b")).toBe(-1);
    open.popTo(1, () => undefined);
    expect(open.closes("b")).toBe(0);
    // No entry after the last marker: the innermost <u> closes unless a special element is inside it.
    open.push("u", true, true);
    open.push("object", false, false);
    open.push("span", true, true);
    expect(open.closes("u")).toBe(-1); // the object is special
    const plain = new OpenElements();
    plain.push("div", true, true);
    plain.push("td", true, true); // a marker, so the <u> below has no entry after it
    plain.push("u", true, true);
    expect(plain.closes("u")).toBe(2); // its entry, after the marker
  });

  it("popping a cell, caption or object clears the list back to its marker", () => {
    for (const marker of ["td", "th", "caption", "applet", "marquee", "object"]) {
      const open = new OpenElements();
      open.push("div", true, true);
      open.push("b", true, true);
      open.push(marker, false, false);
      open.push("i", true, true);
      open.popTo(3, () => undefined); // the <i> closes: after the marker, it would be reopened
      open.reopen();
      expect(open.innermost, marker).toBe("i");
      open.popTo(1, () => undefined); // the marker closes: the <i>'s entry goes, the <b>'s stays
      open.reopen();
      expect([open.depth, open.innermost], marker).toEqual([2, "b"]);
    }
  });

  it("a <dd> or <dt> closes the innermost open either, unless a special element other than address, div, p is inside", () => {
    const open = new OpenElements();
    expect(open.itemCloses()).toBe(-1);
    for (const name of ["dl", "dd", "b", "div", "address", "p"]) open.push(name, false, false);
    expect(open.itemCloses()).toBe(1);
    open.push("dt", false, false);
    expect(open.itemCloses()).toBe(6);
    for (const special of ["section", "li", "ul", "center", "td"]) {
      open.push(special, false, false);
      expect(open.itemCloses(), special).toBe(-1);
      open.popTo(7, () => undefined);
    }
  });
});

describe("Positions", () => {
  it("keeps the positions under each key, innermost last, counts them, and forgets the innermost on removal", () => {
    const at = new Positions();
    expect([at.last("a"), at.count("a")]).toEqual([-1, 0]);
    at.add(["a", "x"], 0);
    at.add(["b"], 1);
    at.add(["a"], 2);
    expect([at.last("a"), at.last("b"), at.last("x"), at.count("a"), at.count("b")]).toEqual([2, 1, 0, 2, 1]);
    at.remove(["a"]);
    expect([at.last("a"), at.count("a")]).toEqual([0, 1]);
    at.remove(["a", "x"]);
    expect([at.last("a"), at.last("x"), at.count("x")]).toEqual([-1, -1, 0]);
  });
});

describe("the tokenizer's script text and CDATA, and the skipped elements' ends, as the sanitiser and text reader use them", () => {
  it("a script's text ends at its </script> only; in a <!-- a <script> of its own holds it until -->", () => {
    expect(htmlToText("a<script>x<b>y</script>b").text).toBe("ab");
    expect(htmlToText("a<script>if (a</b>) x</script>b").text).toBe("ab");
    expect(htmlToText("a<script>x</abcdef>y</script>b").text).toBe("ab");
    expect(htmlToText("a<script>x</scripts>y</script>b").text).toBe("ab");
    // A <script> outside a <!-- is nothing; a <b> is not a <!--.
    expect(htmlToText("a<script><b><script></script>x</script>b").text).toBe("axb");
    expect(htmlToText("a<script><b></script>x</script>b").text).toBe("axb");
    // --> ends the <!--, its dashes the <!--'s own or not; after it a <script> is nothing again.
    expect(htmlToText("a<script><!--x--><script></script>y</script>b").text).toBe("ayb");
    expect(htmlToText("a<script><!--><script></script>y</script>b").text).toBe("ayb");
    expect(htmlToText("a<script><!---><script></script>y</script>b").text).toBe("ayb");
    expect(htmlToText("a<script><!--<script></script>y</script>b").text).toBe("ab");
    expect(htmlToText("a<script><!--<script>x-->y</script>b").text).toBe("ab");
    expect(htmlToText("a<script><!--<script></script>x-->y</script>b").text).toBe("ab");
  });

  it("a CDATA section in SVG or MathML ends at ]]>, or holds the rest; outside them it is a bogus comment", () => {
    expect(sanitizeEmailHtml("a<svg><![CDATA[x></svg>]]>y</svg>b").html).toBe("ab");
    expect(sanitizeEmailHtml("a<svg><![CDATA[x></svg>b").html).toBe("a");
    expect(sanitizeEmailHtml("a<svg>]]><![CDATA[x></svg>]]>y</svg>b").html).toBe("ab");
    expect(sanitizeEmailHtml("a<![CDATA[x></svg>]]>b").html).toBe("a]]&gt;b");
    // The text reader hands on SVG's text around it (the section itself is left out).
    expect(htmlToText("<svg>x<![CDATA[y>]]>z</svg>w").text).toBe("xzw");
  });

  it("only a <select> ends at a start tag or a table part's close tag; a <template> in a table does not", () => {
    expect(sanitizeEmailHtml("a<template><input>x</template>b").html).toBe("ab");
    expect(sanitizeEmailHtml("a<template><select>x</template>b").html).toBe("ab");
    expect(sanitizeEmailHtml("<table><td><template><td>x</template>y").html).toBe("<table><td>y</td></table>");
    expect(sanitizeEmailHtml("<table><td><template></td>x</template>y").html).toBe("<table><td>y</td></table>");
    expect(sanitizeEmailHtml("<table><td><select></td>x").html).toBe("<table><td></td>x</table>");
  });
});
