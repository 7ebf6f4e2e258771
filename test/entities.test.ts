/**
 * HTML character references, decoded as HTML reads them (worker/email/entities.ts).
 *
 * Every case is checked twice: against the expected text, and against parse5
 * (the HTML standard's parser, as browsers implement it), so an expectation
 * here can never drift from the standard. The cases walk the edges the
 * decoder has: decimal and hex digits at the ends of their ranges, the
 * Windows-1252 block, the code points read as U+FFFD, references with and
 * without `;`, legacy names as prefixes, names too long to be names, and the
 * attribute rule for query strings.
 */
import { parseFragment } from "parse5";
import { describe, expect, it } from "vitest";
import { decodeEntities } from "../worker/email/entities";

/** What the browser makes of `s` as text, and as a quoted attribute value. */
function browserText(s: string): string {
  const p = parseFragment(`<p>${s}</p>`).childNodes[0] as unknown as { childNodes: { value?: string }[] };
  return p.childNodes.map((n) => n.value ?? "").join("");
}
function browserAttribute(s: string): string {
  const a = parseFragment(`<a title="${s}"></a>`).childNodes[0] as unknown as { attrs: { value: string }[] };
  return a.attrs[0]!.value;
}

const TEXT: [string, string][] = [
  // Decimal and hex, each digit range at its ends.
  ["&#65;", "A"],
  ["&#065;", "A"],
  ["&#48;&#57;", "09"],
  ["&#x41;", "A"],
  ["&#X41;", "A"],
  ["&#x30;&#x39;", "09"],
  ["&#xaa;&#xAA;", "ªª"],
  ["&#xff;&#xFF;", "ÿÿ"],
  ["&#x6a;&#x6A;", "jj"],
  ["&#x4g;", "\u0004g;"],
  ["&#x4G;", "\u0004G;"],
  ["&#65x", "Ax"],
  ["&#65", "A"],
  ["&#x41", "A"],
  ["&#;", "&#;"],
  ["&#x;", "&#x;"],
  ["&#", "&#"],
  ["&#x", "&#x"],
  ["&#xg;", "&#xg;"],
  // What is no character at all.
  ["&#0;", "\ufffd"],
  ["&#xD7FF;", "\ud7ff"],
  ["&#xD800;", "\ufffd"],
  ["&#xDFFF;", "\ufffd"],
  ["&#xE000;", "\ue000"],
  ["&#x10FFFF;", "\u{10ffff}"],
  ["&#1114111;", "\u{10ffff}"],
  ["&#x110000;", "\ufffd"],
  ["&#1114112;", "\ufffd"],
  ["&#99999999999999999999999;", "\ufffd"],
  ["&#xFFFFFFFFFFFFFFFFFFFF;", "\ufffd"],
  // Windows-1252, as old mail writes dashes and quotes.
  ["&#127;", "\u007f"],
  ["&#128;", "€"],
  ["&#x80;", "€"],
  ["&#129;", "\u0081"],
  ["&#150;&#151;", "–—"],
  ["&#159;", "Ÿ"],
  ["&#x9F;", "Ÿ"],
  ["&#160;", "\u00a0"],
  // Names.
  ["&amp;", "&"],
  ["&AMP;", "&"],
  ["&lt;&gt;&quot;", '<>"'],
  ["&nbsp;", "\u00a0"],
  ["&iexcl;", "¡"],
  ["&eacute;&Eacute;", "éÉ"],
  ["&yuml;&Yuml;", "ÿŸ"],
  ["&euro;&hellip;&ndash;", "€…–"],
  ["&colon;&Tab;&NewLine;", ":\t\n"],
  ["&foo;", "&foo;"],
  ["&;", "&;"],
  ["& ", "& "],
  ["&&amp;", "&&"],
  ["a&b", "a&b"],
  ["&#38;lt;", "&lt;"],
  // Without `;`: legacy names, also as a prefix; others are left.
  ["&amp", "&"],
  ["&ampx", "&x"],
  ["&copy2026", "©2026"],
  ["&COPY", "©"],
  ["&not", "¬"],
  ["&frac12", "½"],
  ["&euro", "&euro"],
  ["&lt3", "<3"],
  // Longer than any name: left as written.
  [`&${"a".repeat(20)};`, `&${"a".repeat(20)};`],
  [`&${"x".repeat(40)}`, `&${"x".repeat(40)}`],
];

const ATTRIBUTE: [string, string][] = [
  ["?a=1&copy=2", "?a=1&copy=2"],
  ["?a=1&copy2", "?a=1&copy2"],
  ["&copy;", "©"],
  ["&copy x", "© x"],
  ["&amp", "&"],
  ["&ampx", "&ampx"],
  ["&eacute;", "é"],
  ["java&#115;cript&colon;", "javascript:"],
  ["&#x6A;avascript&Tab;:", "javascript\t:"],
];

describe("character references", () => {
  it.each(TEXT)("in text, %j reads %j", (input, expected) => {
    expect(browserText(input), "the standard's reading").toBe(expected);
    expect(decodeEntities(input)).toBe(expected);
  });

  it.each(ATTRIBUTE)("in an attribute, %j reads %j", (input, expected) => {
    expect(browserAttribute(input), "the standard's reading").toBe(expected);
    expect(decodeEntities(input, true)).toBe(expected);
  });

  it("a run ending in `;` that the table lacks is left as written: the browser may know a longer name", () => {
    // The standard has 2,231 names; the table a chosen few. `&notin;` is ∉ to a browser, not ¬ and "in;".
    expect(browserText("&notin;")).toBe("∉");
    expect(decodeEntities("&notin;")).toBe("&notin;");
    // So a legacy name is never read as the prefix of such a run, even where the browser would (`&notit;` is "¬it;").
    expect(browserText("&notit;")).toBe("¬it;");
    expect(decodeEntities("&notit;")).toBe("&notit;");
  });

  it("text without a reference comes back as it is, the same string", () => {
    const text = "no references here; not one #65";
    expect(decodeEntities(text)).toBe(text);
    expect(decodeEntities("")).toBe("");
  });
});
