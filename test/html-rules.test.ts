/**
 * The mail HTML rules (worker/email/html.ts), each as an exact input and
 * output: which elements and attributes are written, what is left out with
 * its content, which open tags close others, the depth bound, how tags,
 * attributes, comments and raw text are read, how text and links are
 * escaped, and the plain text of an HTML-only mail. The random and corpus
 * tests (`email-linear`, `sanitiser-corpus`) hold the sanitiser to the
 * runtime's parser; these name each rule so a change to one fails here,
 * every run.
 */
import { describe, expect, it } from "vitest";
import {
  htmlToText,
  MAX_HTML_DEPTH,
  MAX_HTML_KEPT,
  MAX_HTML_READ,
  type SanitiseWork,
  safeHref,
  sanitizeEmailHtml,
  SKIPPED,
} from "../worker/email/html";
import { standardText } from "./html-helpers";

const safe = (html: string) => sanitizeEmailHtml(html).html;
const LINK = 'target="_blank" rel="noopener noreferrer nofollow"';

/** Each [input, output] pair through the sanitiser, failing with the input. */
function expectAll(cases: [string, string][]): void {
  for (const [input, output] of cases) expect(safe(input), input).toBe(output);
}

describe("elements", () => {
  it("every allowed element is written, lower case, without its attributes; void ones without a close", () => {
    // prettier-ignore
    const allowed = ["b", "blockquote", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "i", "li", "ol",
      "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "u", "ul"];
    for (const name of allowed) {
      expect(safe(`<${name.toUpperCase()} class="x" style="color:red" onclick="y">t</${name}>`), name).toBe(
        `<${name}>t</${name}>`,
      );
    }
    // A table's parts, in a table.
    for (const name of ["caption", "tbody", "td", "tfoot", "th", "thead", "tr"]) {
      expect(safe(`<table><${name.toUpperCase()} class="x" onclick="y">t</${name}></table>`), name).toBe(
        `<table><${name}>t</${name}></table>`,
      );
    }
    expectAll([
      ["a<br>b<BR/>c", "a<br>b<br>c"],
      ["a<hr id=x>b", "a<hr>b"],
      ["a</br>b", "a<br>b"],
      ["a</hr>b", "ab"],
    ]);
  });

  it("an element not on the list is left out and its text kept; its close tag too", () => {
    expectAll([
      ["<font color=red>red</font> <img src=x onerror=alert(1)>after", "red after"],
      ["<center><b>x</b></center>", "<b>x</b>"],
      ["<article><p>a</p></article>", "<p>a</p>"],
      ["<form action=x><input value=y>z</form>", "z"],
    ]);
  });

  it("code, styles, forms, frames and foreign content are left out with everything in them", () => {
    // prettier-ignore
    const skipped = ["script", "style", "template", "textarea", "select", "noscript", "title", "iframe", "noembed",
      "noframes", "xmp"];
    for (const name of skipped) expect(safe(`a<${name}>x<b>y</b></${name}>b`), name).toBe("ab");
    expect(safe("a<plaintext>x</plaintext><b>y</b>")).toBe("a");
    // In SVG and MathML a <b> would end them (below): their own elements are left out with all they hold.
    expect(safe("a<svg>x<g>y<text>z</text></g></svg>b")).toBe("ab");
    expect(safe("a<math>x<mrow><mi>y</mi></mrow></math>b")).toBe("ab");
    // An <option> outside a <select> shows its text, as browsers show it.
    expect(safe("a<option>x<b>y</b></option>b")).toBe("ax<b>y</b>b");
  });

  it("a skipped element nested in one of its name ends with the outer one; other close tags inside do nothing", () => {
    expectAll([
      ["<template>a<template>b</template>c</template>d", "d"],
      ["<svg>a<svg>b</svg>c</svg>d", "d"],
      ["<b>a<svg>x</i>y</svg>z</b>", "<b>az</b>"],
    ]);
  });

  it("inside SVG and MathML a close tag closes the innermost element of its name there; one matching none is read as HTML", () => {
    const link = `<a href="https://e.example/" ${LINK}>`;
    expectAll([
      // The MathML `a` is closed by the first </a>, so "y" is inside <math>; the second closes the link and <math>.
      ['<a href="https://e.example/">l<math><a title=x></a>y</a>z', `${link}l</a>z`],
      ['<a href="https://e.example/">l<svg><g><a></g>y</a>z', `${link}l</a>z`],
      ["<b>a<svg><svg><g></svg>x</svg>y</b>z", "<b>ay</b>z"],
      ["<b>a<math><svg><a></svg>x</math>y</b>", "<b>ay</b>"],
      // A self-closing element inside opens nothing, and a self-closing root holds nothing.
      ['<a href="https://e.example/">l<svg><a/>x</a>y', `${link}l</a>y`],
      ["a<svg/>b<math/>c", "abc"],
    ]);
  });

  it("a close tag that matches nothing open inside a skipped element is passed over; SVG ended by HTML starts afresh", () => {
    expectAll([
      ["<b>a<template>x</i>y</template>z</b>", "<b>az</b>"],
      // </b> ends the SVG with the <g> open in it: the next <svg> ends at its own close tag.
      ["<b>a<svg><g>x</b>y<svg>z</svg>w", "<b>a</b>yw"],
    ]);
  });

  it("a close tag of an element the skipped one is inside ends the skip and closes that element", () => {
    expectAll([
      ["<b>a<svg>x</b>y", "<b>a</b>y"],
      ["<div><i>a<math>x</div>y", "<div><i>a</i></div>y"],
    ]);
  });

  it("a close tag closes the elements inside it; one of an element not open is dropped", () => {
    expectAll([
      ["<b><i>x</b>y", "<b><i>x</i></b>y"],
      ["<b>x</i>y</b>", "<b>xy</b>"],
      ["</b></p>x", "x"],
      ["<b>1<b>2</b>3</b>4", "<b>1<b>2</b>3</b>4"],
      ["<p>unclosed<b>bold", "<p>unclosed<b>bold</b></p>"],
    ]);
  });

  it("an opening tag closes the open element it implies the end of, as browsers parse it", () => {
    expectAll([
      ["<p>a<p>b", "<p>a</p><p>b</p>"],
      ["<p>a<div>b", "<p>a</p><div>b</div>"],
      ["<p>a<h3>b", "<p>a</p><h3>b</h3>"],
      ["<p>a<ul><li>b", "<p>a</p><ul><li>b</li></ul>"],
      ["<p>a<table>b", "<p>a</p><table>b</table>"],
      ["<p>a<hr>b", "<p>a</p><hr>b"],
      ["<p>a<blockquote>b", "<p>a</p><blockquote>b</blockquote>"],
      ["<p>a<pre>b", "<p>a</p><pre>b</pre>"],
      ["<p>a<ol>b", "<p>a</p><ol>b</ol>"],
      ["<p>a<b>b", "<p>a<b>b</b></p>"],
      ["<p>a<span>b<p>c", "<p>a<span>b<p>c</p></span></p>"],
      ["<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>"],
      [
        "<table><tr><td>a<td>b<th>c<tr><th>d<td>e",
        "<table><tr><td>a</td><td>b</td><th>c</th></tr><tr><th>d</th><td>e</td></tr></table>",
      ],
      [
        "<table><thead><tr><td>a<tbody><tr><td>b<tfoot>c",
        "<table><thead><tr><td>a</td></tr></thead><tbody><tr><td>b</td></tr></tbody><tfoot>c</tfoot></table>",
      ],
      ["<table><thead><tr><td>a<tbody>b", "<table><thead><tr><td>a</td></tr></thead><tbody>b</tbody></table>"],
      ["<li>a<ul><li>b", "<li>a<ul><li>b</li></ul></li>"],
    ]);
  });
});

/** As `expectAll`, and the output's text is the input's as a browser's parser (parse5) reads both. */
function expectAllAsBrowsers(cases: [string, string][]): void {
  for (const [input, output] of cases) {
    expect(safe(input), input).toBe(output);
    expect(standardText(output, SKIPPED), `${input}: the text as a browser reads it`).toBe(
      standardText(input, SKIPPED),
    );
  }
}

describe("where SVG, MathML and other skipped content ends, as browsers build the tree", () => {
  it("a start tag of the standard's break-out list ends SVG and MathML, and `</p>` and `</br>` do; other tags stay in", () => {
    expectAllAsBrowsers([
      ["a<svg>x<p>y</p>z", "a<p>y</p>z"],
      ["a<math><mrow>x<div>y</div>", "a<div>y</div>"],
      ["a<svg><g><b>y</b></g></svg>z", "a<b>y</b>z"],
      ["a<svg><font color=red>y", "ay"],
      ["a<svg><font>y</font></svg>b", "ab"],
      ["a<svg><span/>y", "a<span>y</span>"],
      ["<p>a<svg><g>x<p>b", "<p>a</p><p>b</p>"],
      ["a<svg></p>y", "ay"],
      ["a<svg>x</br>b", "a<br>b"],
      ["<p>a<svg><g>x</p>b", "<p>a</p>b"],
      ["<p><div><math></p><<div>", "<p></p><div>&lt;<div></div></div>"],
    ]);
  });

  it("in an integration point (SVG title, desc, foreignObject; MathML mi… and HTML annotation-xml) HTML stays inside", () => {
    expectAllAsBrowsers([
      ["a<svg><title><p>x</p></title>y</svg>b", "ab"],
      ["a<svg><foreignObject><div>x</div></foreignObject></svg>b", "ab"],
      ["a<math><mi><b>x</b></mi></math>b", "ab"],
      ['a<math><annotation-xml encoding="Text/HTML"><p>x</p></annotation-xml></math>b', "ab"],
      // Not holding HTML, annotation-xml is no integration point: the <p> ends the MathML.
      ["a<math><annotation-xml><p>x</p>", "a<p>x</p>"],
      // An HTML end tag there reaches no further than the integration point, however its element is open outside.
      ["a<svg><desc><b></svg>x", "a"],
      ["<b>a<svg><title></b>x", "<b>a</b>"],
      ["<div>a<svg><title><b></div>x", "<div>a</div>"],
      // The integration point's own close tag, and the root's, end them once the HTML in it is closed.
      ["a<svg><title><b>x</b></title>y</svg>b", "ab"],
      // parse5 closes the title at </title> even with HTML open in it (the standard leaves it open); so does this.
      ["a<svg><title><b>x</title>y</svg>b", "ab"],
    ]);
  });

  it("content is raw text only in an HTML element, which an integration point may hold; CDATA only in SVG and MathML", () => {
    expectAllAsBrowsers([
      ["a<svg><title><style></svg></style></title></svg>b", "ab"],
      ["a<svg><style></svg>b", "ab"],
      ["a<svg><![CDATA[</svg>]]>x</svg>b", "ab"],
      ["a<![CDATA[x>y]]>b", "ay]]&gt;b"],
    ]);
    expect(htmlToText("<svg><title><style>a</style></title>b</svg>c").text).toBe("bc");
    expect(htmlToText("<svg><p><style>a</style>b").text).toBe("b");
  });

  it("in a table, a table part's tag ends SVG and MathML from anywhere inside; outside a table the part is left out", () => {
    expectAllAsBrowsers([
      ["<table><td>a<svg><title></td>b", "<table><td>a</td>b</table>"],
      ["<table><td>a<svg><desc><td>b", "<table><td>a</td><td>b</td></table>"],
      ["<table><tr><svg><title><td>b", "<table><tr><td>b</td></tr></table>"],
      // A table inside the integration point takes the parts itself; in a row (not a cell) a <table> ends the outer one.
      ["<table><td>a<svg><title><table><td>x</td></table></svg>b", "<table><td>ab</td></table>"],
      ["<table><tr><svg><title><table><td>x</svg>y", "<table><tr></tr></table><table><td>xy</td></table>"],
      ["<td>a<svg><title></td>b", "a"],
      ["<tr><td>a</td></tr>b", "ab"],
    ]);
  });

  it("a <select> ends at its close tag, another <select>, <input> or <textarea>, or a table part's tag in a table", () => {
    expectAllAsBrowsers([
      ["<div><select></div>x</select>y", "<div>y</div>"],
      ["a<select>x<select>b", "ab"],
      ["a<select>x<input>b", "ab"],
      ["<table><td><select>x<td>y", "<table><td></td><td>y</td></table>"],
      ["<table><td><select>x</td>y", "<table><td></td>y</table>"],
      ["<div><template></div>x</template>y", "<div>y</div>"],
    ]);
  });

  it("an element left out is still open for a browser: its close tag ends SVG and MathML inside it", () => {
    expectAllAsBrowsers([
      ["<center><svg></center>x", "x"],
      ["<section>a<svg></section>x", "ax"],
      ["<x-card><svg></x-card>x", "x"],
      ["<label><math></label>x", "x"],
      ["<dl><dd><svg></dd>x", "x"],
      ["<button><svg></button>x", "x"],
      ["<option><option><svg></option>x", "x"],
      // An <option> or <optgroup> closes an <option> that is the current element, and nothing else.
      ["<option><optgroup><svg></option>x", ""],
      ["<span><option><svg></span>x", "<span></span>x"],
      ["<option><span><option><svg></span>x", "<span></span>x"],
      // Formatting elements left out (`<font>`, `<big>`, `<nobr>`, `<tt>`, `<strike>`) close as `<b>` does.
      ["<font face=x><svg></font>x", "x"],
      ["<big><math></big>y", "y"],
      ["<nobr><svg></nobr>x", "x"],
      ["<tt><svg></tt>x", "x"],
      ["<strike><div><svg></strike>x", "<div></div>x"],
      // A heading's close tag closes whichever heading is open.
      ["<h1>a<svg></h2>x", "<h1>a</h1>x"],
    ]);
  });

  it("a close tag does not reach past a scope's edge (<object>, <applet>, <marquee>), nor any other past a block", () => {
    expectAllAsBrowsers([
      ["<div><object><svg></div>x", "<div></div>"],
      ["<div><marquee><svg></div>x", "<div></div>"],
      ["<div><applet><svg></div>x", "<div></div>"],
      ["<b><object><svg></b>x", "<b></b>"],
      ["<div><object>a</object>b</div>c", "<div>ab</div>c"],
      // `</li>` stops at a list, `</span>` (no rule of its own) at any of the standard's special elements.
      ["<li><ul><svg></li>x", "<li><ul></ul></li>"],
      ["<span><div><svg></span>x", "<span><div></div></span>"],
      ["<sub><p><svg></sub>x", "<sub><p></p></sub>"],
      ["<span><center><svg></span>x", "<span></span>"],
      ["<span><div>a</span>b</div>c", "<span><div>ab</div>c</span>"],
      // `</form>` takes only the form out, leaving what is in it open; a form inside a form is ignored.
      ["<form><svg></form>x", ""],
      ["<span><form><svg></span>x", "<span></span>"],
      ["<form>a<form>b</form>c", "abc"],
      ["<form><span><form><svg></span>x", "<span></span>x"],
    ]);
  });

  it("formatting elements closed by another's close tag are reopened, as browsers do, and their close tags end SVG", () => {
    expectAllAsBrowsers([
      // Found by the random test (one in about 150,000 documents): `</p>` closed the <a>; <svg> reopened it.
      ["<p><a><p><div></p><svg></a><", `<p><a ${LINK}><p></p><div></div></a></p>&lt;`],
      ["<p><font><p><svg></font>x", "<p></p><p>x</p>"],
      ["<p><b>x</p><svg></b>y", "<p><b>x</b></p>y"],
      ["<p><b></p>y<svg></b>z", "<p><b></b></p>yz"],
      // A cell, caption or object is a marker: what was open outside is not reopened in it, and cleared with it.
      ["<b><table><td><svg></b>x", "<b><table><td></td></table></b>"],
      ["<table><td><b></td><td><svg></b>x", "<table><td><b></b></td><td></td></table>"],
      ["<object><b></object><svg></b>x", "<b></b>"],
      // At most three of one name are reopened: the fourth <b> was dropped from the list, so the last </b> ends nothing.
      ["<p><b><b><b><b></p>y</b></b></b><svg></b>x", "<p><b><b><b><b></b></b></b></b></p>y"],
      ["<p><b><b><b></p>y</b></b><svg></b>x", "<p><b><b><b></b></b></b></p>yx"],
      // A <select> is reopened around, not in (nothing in it is text).
      ["<p><b></p><select></b>x</select>y", "<p><b></b></p>y"],
    ]);
  });

  it("<dd> and <dt> close an open one unless a special element other than <div>, <address>, <p> is inside it", () => {
    expectAllAsBrowsers([
      ["<dd><dd></dd><svg></dd>-->", ""],
      ["<dt><dd></dd><svg></dt>-->", ""],
      ["<dd><div><dd><svg></dd>x", "<div></div>x"],
      ["<dd><section><dd><svg></dd></dd>x", "x"],
      // Only they: another element left out closes none.
      ["<dd><x-a><svg></dd>x", "x"],
    ]);
  });

  it("in a <select> only a <script>'s content is raw text; a <title> or <style> there is ignored, as parse5 has it", () => {
    expectAllAsBrowsers([
      ["<select><title><select>&amp;", "&amp;"],
      ["<select><style>x</select>y</style>z", "yz"],
      ["<select><script>x</select>y</script>z", ""],
      ["<select><xmp></select>y", "y"],
      ["<select><textarea>a</select>b</textarea>c", "c"],
    ]);
  });

  it("formatting elements are reopened before text and most start tags, never before blocks, items, headings or table parts", () => {
    // Reopened before the tag: one more element is open (and a step to close), unwritten.
    const steps = (html: string) => {
      const w: SanitiseWork = { nodes: 0, steps: 0 };
      sanitizeEmailHtml(html, w);
      return w.steps;
    };
    // prettier-ignore
    const never = [
      "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "fieldset",
      "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "listing",
      "main", "menu", "nav", "ol", "p", "pre", "search", "section", "summary", "table", "ul", "plaintext",
      "li", "dd", "dt", "hr", "textarea", "iframe", "noembed", "noscript", "noframes", "script", "style", "title",
      "template", "base", "basefont", "bgsound", "link", "meta", "body", "html", "head", "frameset", "frame",
      "caption", "col", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr", "param", "source", "track", "rb",
      "rp", "rt", "rtc",
    ];
    // `<p><b></p>` pops two; the tag alone, at the end, adds what it opens.
    const alone = (name: string) => steps(`<${name}>`);
    for (const name of never) expect(steps(`<p><b></p><${name}>`), name).toBe(2 + alone(name));
    for (const name of ["span", "b", "x-y", "img", "br", "input", "select", "svg", "math", "xmp", "button", "option"]) {
      expect(steps(`<p><b></p><${name}>`), name).toBe(3 + alone(name));
    }
    expect(steps("<p><b></p>x")).toBe(3);
  });

  it("an element left out for depth is still open: its close tag ends what is inside it", () => {
    const deep = "<div>".repeat(MAX_HTML_DEPTH);
    expect(safe(`${deep}<b><svg></b>x`)).toBe(`${deep}x${"</div>".repeat(MAX_HTML_DEPTH)}`);
    expect(safe(`${deep}<b><i>x</b>y`)).toBe(`${deep}xy${"</div>".repeat(MAX_HTML_DEPTH)}`);
  });
});

describe("depth", () => {
  it(`elements deeper than ${MAX_HTML_DEPTH} are left out, their text and void elements kept, and it says how many`, () => {
    const deep = "<div>".repeat(MAX_HTML_DEPTH + 3) + "x<br>y";
    const out = sanitizeEmailHtml(deep);
    expect(out.html).toBe("<div>".repeat(MAX_HTML_DEPTH) + "x<br>y" + "</div>".repeat(MAX_HTML_DEPTH));
    expect(out.cut).toEqual([
      `3 HTML tags nested deeper than ${MAX_HTML_DEPTH} levels were left out; their text is kept.`,
    ]);
    const exactly = sanitizeEmailHtml("<b>".repeat(MAX_HTML_DEPTH) + "x");
    expect(exactly.html).toBe("<b>".repeat(MAX_HTML_DEPTH) + "x" + "</b>".repeat(MAX_HTML_DEPTH));
    expect(exactly.cut).toEqual([]);
  });

  it("the count says thousands with a separator", () => {
    const out = sanitizeEmailHtml("<i>".repeat(MAX_HTML_DEPTH + 1234) + "x");
    expect(out.cut).toEqual([
      `1,234 HTML tags nested deeper than ${MAX_HTML_DEPTH} levels were left out; their text is kept.`,
    ]);
  });

  it("closing an element frees its depth for the next", () => {
    const out = sanitizeEmailHtml("<b>".repeat(MAX_HTML_DEPTH) + "</b><i>x</i>");
    expect(out.html).toBe("<b>".repeat(MAX_HTML_DEPTH) + "</b><i>x</i>" + "</b>".repeat(MAX_HTML_DEPTH - 1));
    expect(out.cut).toEqual([]);
  });
});

describe("attributes", () => {
  it("a link keeps an http(s) or mailto address, parsed and escaped, and its title as written; it opens apart", () => {
    expectAll([
      ['<a href="https://a.example/x?y=1&z=2">x</a>', `<a href="https://a.example/x?y=1&amp;z=2" ${LINK}>x</a>`],
      ["<a href=http://a.example>x</a>", `<a href="http://a.example/" ${LINK}>x</a>`],
      [
        "<A HREF='mailto:a@b.example' TITLE='t<\"'>x</a>",
        `<a href="mailto:a@b.example" title="t&lt;&quot;" ${LINK}>x</a>`,
      ],
      ['<a title="A &amp; B">x</a>', `<a title="A &amp; B" ${LINK}>x</a>`],
      ['<a title="">x</a>', `<a title="" ${LINK}>x</a>`],
      ["<a title>x</a>", `<a title="" ${LINK}>x</a>`],
      ['<a href="ftp://a.example/">x</a>', `<a ${LINK}>x</a>`],
      ['<a href="">x</a>', `<a ${LINK}>x</a>`],
      ["<a>x</a>", `<a ${LINK}>x</a>`],
      ['<a onclick="x" target="_self" rel="opener" style="y">x</a>', `<a ${LINK}>x</a>`],
    ]);
  });

  it("the first of two same-named attributes counts, whatever its case", () => {
    expectAll([
      [
        '<a href="https://one.example/" HREF="https://two.example/">x</a>',
        `<a href="https://one.example/" ${LINK}>x</a>`,
      ],
      ['<a TITLE="one" title="two">x</a>', `<a title="one" ${LINK}>x</a>`],
    ]);
  });

  it("a table cell keeps a span of 1 to 999, trimmed; no other value, no other attribute", () => {
    expectAll([
      ["<table><td colspan=1 rowspan=999>c", '<table><td colspan="1" rowspan="999">c</td></table>'],
      ['<table><th colspan=" 12 ">c', '<table><th colspan="12">c</th></table>'],
      ["<table><td colspan=0>c", "<table><td>c</td></table>"],
      ["<table><td colspan=1000>c", "<table><td>c</td></table>"],
      ["<table><td colspan=01>c", "<table><td>c</td></table>"],
      ["<table><td colspan=2x rowspan=-1>c", "<table><td>c</td></table>"],
      ["<table><td colspan=''>c", "<table><td>c</td></table>"],
      ["<table><td colspan>c", "<table><td>c</td></table>"],
      ['<table><td width="9" colspan="3" align="x">c', '<table><td colspan="3">c</td></table>'],
      ['<p colspan="2">c', "<p>c</p>"],
    ]);
  });

  it("attributes are read as the standard reads them: quotes, unquoted values, names without values, slashes", () => {
    expectAll([
      // A quoted value may hold `>` and the other quote.
      [
        "<a title=\"1 > 2\" href='https://a.example/'>x</a>",
        `<a href="https://a.example/" title="1 &gt; 2" ${LINK}>x</a>`,
      ],
      ["<a title='say \"hi\"'>x</a>", `<a title="say &quot;hi&quot;" ${LINK}>x</a>`],
      // An unquoted value ends at a space or at `>`.
      ["<a title=one two=three>x</a>", `<a title="one" ${LINK}>x</a>`],
      ["<a title=one>x</a>", `<a title="one" ${LINK}>x</a>`],
      ["<a title=a\tb>x</a>", `<a title="a" ${LINK}>x</a>`],
      // Space, tab, line feed, form feed and carriage return all separate.
      ["<a\ntitle=a\nb>x</a>", `<a title="a" ${LINK}>x</a>`],
      ["<a\ftitle=a\fb>x</a>", `<a title="a" ${LINK}>x</a>`],
      ["<a\rtitle=a\rb>x</a>", `<a title="a" ${LINK}>x</a>`],
      // A vertical tab does not: it is part of the tag's name, so this is no link.
      ["<a\vtitle=t>x</a>", "x"],
      // A name without a value, then another attribute.
      ["<a download title=t>x</a>", `<a title="t" ${LINK}>x</a>`],
      ["<a title href=https://a.example/>x</a>", `<a href="https://a.example/" title="" ${LINK}>x</a>`],
      // Spaces around `=`.
      ['<a title = "t">x</a>', `<a title="t" ${LINK}>x</a>`],
      ["<a title =t>x</a>", `<a title="t" ${LINK}>x</a>`],
      // `=` with nothing after it before `>`.
      ["<a title=>x</a>", `<a title="" ${LINK}>x</a>`],
      // A slash ends a name; a quote not right after `=` is part of a name.
      ["<a/title=t>x</a>", `<a title="t" ${LINK}>x</a>`],
      ["<a title/=t>x</a>", `<a title="" ${LINK}>x</a>`],
      ['<a x"y title=t>x</a>', `<a title="t" ${LINK}>x</a>`],
      // A slash inside an unquoted value is the value's.
      ["<a href=https://a.example/p/q>x</a>", `<a href="https://a.example/p/q" ${LINK}>x</a>`],
    ]);
  });

  it("a quoted value never closed makes the rest no tag and no text", () => {
    expectAll([
      ['a<a title="open>b', "a"],
      ["a<b title='open>b", "a"],
    ]);
  });
});

describe("links", () => {
  it("safeHref keeps http, https and mailto, decoded and parsed as a browser would; nothing else", () => {
    expect(safeHref(null)).toBeNull();
    expect(safeHref("")).toBeNull();
    expect(safeHref("https://a.example")).toBe("https://a.example/");
    expect(safeHref("  HTTP://A.example/x \n")).toBe("http://a.example/x");
    expect(safeHref("ht\ttps://a.example/")).toBe("https://a.example/");
    expect(safeHref("https&#58;//a.example/&amp;")).toBe("https://a.example/&");
    expect(safeHref("mailto:a@b.example?subject=hi")).toBe("mailto:a@b.example?subject=hi");
    for (const bad of ["javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", "vbscript:x", "file:///etc/passwd"]) {
      expect(safeHref(bad), bad).toBeNull();
    }
    expect(safeHref("/relative")).toBeNull();
    expect(safeHref("not a url")).toBeNull();
  });

  it("an address up to 4,096 characters is kept; a longer one is dropped", () => {
    const at = (n: number) => "https://a.example/" + "x".repeat(n - "https://a.example/".length);
    expect(safeHref(at(4096))).toBe(at(4096));
    expect(safeHref(at(4097))).toBeNull();
  });
});

describe("text", () => {
  it("< and > in text are escaped; references stay as written", () => {
    expectAll([
      ["1 < 2 > 0", "1 &lt; 2 &gt; 0"],
      ["a &amp; b &lt;c&gt; &copy; &#169; &#xA9;", "a &amp; b &lt;c&gt; &copy; &#169; &#xA9;"],
      ["Tom & Jerry", "Tom & Jerry"],
      ["\"quoted\" 'single'", "\"quoted\" 'single'"],
    ]);
  });

  it("a reference left open at a text's end is written whole, or its & escaped, so the next text cannot continue it", () => {
    expectAll([
      ["&amp<b>;</b>", "&amp;<b>;</b>"],
      ["a&lt<b>x</b>", "a&lt;<b>x</b>"],
      ["&#65<b>x</b>", "A<b>x</b>"],
      ["&#x41<b>x</b>", "A<b>x</b>"],
      ["&#X41<b>x</b>", "A<b>x</b>"],
      ["a&<b>x</b>", "a&amp;<b>x</b>"],
      ["a&#<b>x</b>", "a&amp;#<b>x</b>"],
      ["a&nosuch<b>;</b>", "a&amp;nosuch<b>;</b>"],
      ["x&amp;y&lt<b>z</b>", "x&amp;y&lt;<b>z</b>"],
      // Not a reference at the end (a space, a semicolon or another character after the &): as written.
      ["a& b<b>x</b>", "a& b<b>x</b>"],
      ["a&amp;<b>x</b>", "a&amp;<b>x</b>"],
      ["a&a-b<b>x</b>", "a&a-b<b>x</b>"],
      // A decoded reference with markup in it stays text.
      ["&lt<b>x</b>", "&lt;<b>x</b>"],
      ["&quot<b>x</b>", "&quot;<b>x</b>"],
    ]);
  });

  it("a < that begins no tag is text; a tag cut off by the end is no tag and no text", () => {
    expectAll([
      // A tag name begins with a letter, A to Z or a to z, nothing around them.
      ["a<Zed>b<zed>c<Aa>d<aa>e", "abcde"],
      ["a<@x>b<[x>c<`x>d<{x>e", "a&lt;@x&gt;b&lt;[x&gt;c&lt;`x&gt;d&lt;{x&gt;e"],
      ["a</Z>b</z>c</@>d", "abcd"],
      ["a < b", "a &lt; b"],
      ["a <3 b", "a &lt;3 b"],
      ["a<", "a&lt;"],
      ["a</", "a&lt;/"],
      ["a<b", "a"],
      ["a</b", "a"],
      ["a<b>x</b>y<i", "a<b>x</b>y"],
    ]);
  });
});

describe("what is not markup", () => {
  it("comments are skipped, however they end", () => {
    expectAll([
      ["a<!-- <b>x</b> -->b", "ab"],
      ["a<!---->b", "ab"],
      ["a<!-->b", "ab"],
      ["a<!--->b", "ab"],
      ["a<!-- x --!>b", "ab"],
      ["a<!-- x -- y -->b", "ab"],
      ["a<!-- x ->b-->c", "ac"],
      ["a<!-- never closed <b>x</b>", "a"],
      // A `>` or `!>` early in the text ends nothing without its `--`.
      ["a<!--xy>z-->b", "ab"],
      ["a<!--xy!>z-->b", "ab"],
    ]);
  });

  it("doctypes, processing instructions and bogus comments are skipped to their >", () => {
    expectAll([
      ["<!DOCTYPE html>a", "a"],
      ["a<?xml version='1.0'?>b", "ab"],
      ["a<![CDATA[x]]>b", "ab"],
      ["a<![CDATA[x>y]]>b", "ay]]&gt;b"],
      ["a</ b>c", "ac"],
      ["a</3>c", "ac"],
      ["a<!x", "a"],
      ["a</ x", "a"],
    ]);
  });

  it("the text of a raw-text element ends only at its own close tag, in any case, followed by a space, / or >", () => {
    expectAll([
      ["<script>if (a</b>) x</script>y", "y"],
      ["<style>x</STYLE>y", "y"],
      ["<title>x</title >y", "y"],
      ["<title>x</title/>y", "y"],
      ["<title>x</titlex>still</title>y", "y"],
      ["<textarea><b>x</b></textarea>y", "y"],
      ["<script>never closed<b>x</b>", ""],
    ]);
    // A script's `<!--` holding a `<script>` of its own: a `</script>` ends only that one, until the `-->`.
    expectAllAsBrowsers([
      ["a<script><!--<script></script>x</script>y", "ay"],
      ["a<script><!--<script></script>x-->y</script>b", "ab"],
      ["a<script><!--<script>--></script>b", "ab"],
      ["a<script><!--></script>b", "ab"],
      ["a<script><!--</script>b", "ab"],
      ["a<script><!--<scripts></script>b", "ab"],
      ["a<script><!--<SCRIPT/></SCRIPT >--></script>b", "ab"],
    ]);
    expect(htmlToText("a<script><!--<script></script>x-->y</script>b").text).toBe("ab");
    // The sanitiser leaves these elements out anyway; the text reader shows where the raw text really ends.
    expect(htmlToText("<title>x</titlex>still</title>y").text).toBe("y");
    expect(htmlToText("<title>x</title >y").text).toBe("y");
    expect(htmlToText("<title>x</title/>y").text).toBe("y");
    expect(htmlToText("<title>x</TITLE>y").text).toBe("y");
    expect(htmlToText("<title>x</title").text).toBe("");
    expect(htmlToText("<textarea>a</textareaz>b</textarea>c").text).toBe("c");
  });

  it("inside <svg> and <math> nothing is raw text; <svg/> holds nothing", () => {
    // htmlToText shows it: the text of an <svg>'s <style> is handed on, a raw-text element's is not.
    expect(htmlToText("<svg><style>a</style></svg>b").text).toBe("ab");
    expect(htmlToText("<math><title>a</title></math>b").text).toBe("ab");
    expect(htmlToText("<svg/><style>a</style>b").text).toBe("b");
    expect(htmlToText("<svg><svg></svg></svg><style>a</style>b").text).toBe("b");
    expect(htmlToText("</svg><style>a</style>b").text).toBe("b");
    expect(htmlToText("<svg><plaintext>a</plaintext></svg>b").text).toBe("ab");
  });
});

describe("size", () => {
  it(`only the first ${MAX_HTML_READ.toLocaleString("en")} characters are read, and it says so`, () => {
    // Tags left out (`<x>`) make the HTML long and what is written short, so only the reading bound applies.
    const tags = (length: number) => "<x>".repeat(length / 3);
    const long = "y".repeat(10) + tags(MAX_HTML_READ - 10) + "<b>TAIL</b>";
    const said = `The HTML is ${long.length.toLocaleString("en")} characters long; the first ${MAX_HTML_READ.toLocaleString("en")} are shown.`;
    expect(sanitizeEmailHtml(long)).toEqual({ html: "y".repeat(10), cut: [said] });
    expect(htmlToText(long)).toEqual({ text: "y".repeat(10), cut: [said] });
    const exactly = "y" + tags(MAX_HTML_READ - 1);
    expect(exactly.length).toBe(MAX_HTML_READ);
    expect(sanitizeEmailHtml(exactly)).toEqual({ html: "y", cut: [] });
    expect(htmlToText(exactly)).toEqual({ text: "y", cut: [] });
    expect(sanitizeEmailHtml(exactly + "z").cut).toEqual([
      `The HTML is 1,048,577 characters long; the first ${MAX_HTML_READ.toLocaleString("en")} are shown.`,
    ]);
  });
});

describe("the kept length", () => {
  const x = (n: number) => "x".repeat(n);
  const said = (length: number) =>
    `The formatted mail is ${length.toLocaleString("en")} characters long once made safe; the first ${MAX_HTML_KEPT.toLocaleString("en")} are kept.`;

  it(`${MAX_HTML_KEPT.toLocaleString("en")} characters once made safe are kept whole, without a note; one more is cut`, () => {
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT))).toEqual({ html: x(MAX_HTML_KEPT), cut: [] });
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT + 1))).toEqual({ html: x(MAX_HTML_KEPT), cut: [said(MAX_HTML_KEPT + 1)] });
  });

  it("a cut never ends inside a tag; a tag after the line is not looked at", () => {
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT - 2) + "<b>y</b>").html).toBe(x(MAX_HTML_KEPT - 2));
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT + 1) + "<b>y</b>").html).toBe(x(MAX_HTML_KEPT));
  });

  it("a cut never ends inside a reference of under 40 characters; a & further back, or after the line, is left", () => {
    // The reference's `;` just past the line, or exactly at it: cut before the `&`.
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT - 3) + "&amp;" + x(10)).html).toBe(x(MAX_HTML_KEPT - 3));
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT - 4) + "&amp;" + x(10)).html).toBe(x(MAX_HTML_KEPT - 4));
    // Its `;` just inside the line: the reference is whole, nothing moves.
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT - 5) + "&amp;" + x(10)).html).toBe(x(MAX_HTML_KEPT - 5) + "&amp;");
    // A & 39 characters back is a reference cut short; 40 back it is not one.
    const far = (back: number) => sanitizeEmailHtml(x(MAX_HTML_KEPT - back) + "&" + "y".repeat(100) + ";").html;
    expect(far(39)).toBe(x(MAX_HTML_KEPT - 39));
    expect(far(40)).toBe(x(MAX_HTML_KEPT - 40) + "&" + "y".repeat(39));
    // No & at all, a `;` after the line; and a & after the line.
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT + 5) + ";").html).toBe(x(MAX_HTML_KEPT));
    expect(sanitizeEmailHtml(x(MAX_HTML_KEPT + 1) + "&amp;").html).toBe(x(MAX_HTML_KEPT));
  });
});

describe("the writer's work", () => {
  it("counts each element and text node once, and each stack step: each close (finding what closes is a look-up)", () => {
    const work = (html: string) => {
      const w: SanitiseWork = { nodes: 0, steps: 0 };
      sanitizeEmailHtml(html, w);
      return w;
    };
    expect(work("")).toEqual({ nodes: 0, steps: 0 });
    expect(work("x")).toEqual({ nodes: 1, steps: 0 });
    // open b, open i, x, close i (1 close), close b (1).
    expect(work("<b><i>x</i></b>")).toEqual({ nodes: 5, steps: 2 });
    // close b with i open above it: closes both (2).
    expect(work("<b><i>x</b>")).toEqual({ nodes: 4, steps: 2 });
    // Unclosed at the end: closed there, a step each; a close of nothing open costs no step.
    expect(work("<b><i>x</u>")).toEqual({ nodes: 4, steps: 2 });
    // A skipped element counts as nodes, never as steps; a left-out one is open, and a step when closed.
    expect(work("<font>x</font><script>y</script>")).toEqual({ nodes: 5, steps: 1 });
    expect(work("<script>y</script><img>")).toEqual({ nodes: 3, steps: 0 });
    // Foreign content's elements are a step each, when the close that ends them pops them.
    expect(work("<svg><g><g></svg>")).toEqual({ nodes: 4, steps: 3 });
  });
});

describe("htmlToText", () => {
  it("drops tags, decodes references, and ends a line at <br> and at the close of a block, item, row or heading", () => {
    const closes = ["p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"];
    for (const name of closes) expect(htmlToText(`<${name}>a</${name}>b`).text, name).toBe("a\nb");
    for (const name of ["span", "b", "td", "ul", "table", "blockquote"]) {
      expect(htmlToText(`<${name}>a</${name}>b`).text, name).toBe("ab");
    }
    expect(htmlToText("a<br>b<br/>c").text).toBe("a\nb\nc");
    expect(htmlToText("a<BR>b").text).toBe("a\nb");
    expect(htmlToText("<p>Fish &amp; chips &lt;3 &#169;</p>").text).toBe("Fish & chips <3 ©");
  });

  it("no-break spaces read as spaces; blanks at line ends are dropped; at most one empty line in a row; trimmed", () => {
    expect(htmlToText("a&nbsp;b").text).toBe("a b");
    expect(htmlToText("a \t <br>b").text).toBe("a\nb");
    expect(htmlToText("a<br><br><br><br>b").text).toBe("a\n\nb");
    expect(htmlToText("a<br>\t<br> <br>b").text).toBe("a\n\nb");
    expect(htmlToText("<br> a <br> b<br><br>").text).toBe("a\n b");
    expect(htmlToText("  <p>  x  </p>  ").text).toBe("x");
    expect(htmlToText("").text).toBe("");
  });

  it("skips what is not text: scripts, styles, titles, comments", () => {
    expect(htmlToText("<title>T</title><style>p{}</style><script>x()</script><!-- c -->body").text).toBe("body");
    expect(htmlToText("<textarea>t</textarea><noscript>n</noscript><xmp>x</xmp>b").text).toBe("b");
  });
});
