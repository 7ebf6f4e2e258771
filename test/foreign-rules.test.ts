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
import { OpenElements } from "../worker/email/open-elements";

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
  const names = (open: OpenElements, depth: number) => {
    const popped: [string, number][] = [];
    open.popTo(depth, (name, at) => popped.push([name, at]));
    return popped;
  };

  it("keeps what is open in order, finds the innermost of a name, and pops from the top with each position", () => {
    const open = new OpenElements();
    expect([open.depth, open.innermost, open.find("b"), open.table, open.place()]).toEqual([
      0,
      undefined,
      -1,
      -1,
      null,
    ]);
    for (const name of ["div", "b", "i", "b"]) open.push(name);
    expect([open.depth, open.innermost, open.find("b"), open.find("div"), open.find("u")]).toEqual([4, "b", 3, 0, -1]);
    expect(names(open, 2)).toEqual([
      ["b", 3],
      ["i", 2],
    ]);
    expect([open.depth, open.find("b"), open.find("i")]).toEqual([2, 1, -1]);
    expect(names(open, 5)).toEqual([]);
    expect(names(open, 0)).toEqual([
      ["b", 1],
      ["div", 0],
    ]);
  });

  it("says where in a table it is: a cell or caption, elsewhere in a table, or none; forgets a table once closed", () => {
    const open = new OpenElements();
    open.push("div");
    open.push("td"); // a cell outside a table: the sanitiser never pushes one, but it is no table
    expect([open.place(), open.table]).toEqual([null, -1]);
    open.push("table");
    expect([open.place(), open.table]).toEqual(["table", 2]);
    for (const [part, place] of [
      ["tbody", "table"],
      ["tr", "table"],
      ["td", "cell"],
    ] as const) {
      open.push(part);
      expect(open.place(), part).toBe(place);
    }
    open.push("b"); // popping what is no table part leaves the cell the innermost
    names(open, 6);
    expect(open.place()).toBe("cell");
    names(open, 5);
    expect(open.place()).toBe("table");
    open.push("th");
    expect(open.place()).toBe("cell");
    names(open, 5);
    open.push("caption");
    expect(open.place()).toBe("cell");
    open.push("table");
    expect([open.place(), open.table]).toEqual(["table", 6]);
    names(open, 6);
    expect([open.place(), open.table]).toEqual(["cell", 2]);
    names(open, 2);
    expect([open.place(), open.table]).toEqual([null, -1]);
  });

  it("a close tag reaches its element unless a table, cell or caption is in between; a table part's, unless a table", () => {
    const open = new OpenElements();
    for (const name of ["div", "table", "tr", "td", "b"]) open.push(name);
    expect(open.reaches("b", open.find("b"))).toBe(true);
    expect(open.reaches("td", open.find("td"))).toBe(true);
    expect(open.reaches("div", open.find("div"))).toBe(false); // the table and the cell are in between
    expect(open.reaches("tr", open.find("tr"))).toBe(true); // a table part's: the cell is no edge for it
    expect(open.reaches("table", open.find("table"))).toBe(true);
    expect(open.reaches("u", open.find("u"))).toBe(false); // not open
    open.push("caption");
    expect(open.reaches("td", open.find("td"))).toBe(true);
    expect(open.reaches("b", open.find("b"))).toBe(false);
    open.push("table");
    expect(open.reaches("tr", open.find("tr"))).toBe(false);
    expect(open.reaches("caption", open.find("caption"))).toBe(false);
    expect(open.reaches("table", open.find("table"))).toBe(true);
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
