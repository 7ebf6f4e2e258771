/**
 * A mail's HTML, made safe to show and bounded in what it costs.
 *
 * One small tokenizer reads the HTML with the HTML standard's tokenizing
 * rules, as far as they matter here: a tag begins with `<` and a letter (or
 * `</` and a letter) and ends at the first `>` outside a quoted attribute
 * value; comments, doctypes and `<!…>` / `<?…>` are skipped; the content of
 * `<script>`, `<style>`, `<title>` and the other raw-text elements is skipped
 * to its close tag. The tests hold it to the runtime's own parser
 * (HTMLRewriter, lol-html) on random HTML and on public corpora of hostile
 * strings. The runtime's parser is not used here: calling back into
 * JavaScript for every element and text node of it costs ten times this
 * tokenizer on ordinary newsletter HTML (1.1 s against 55 ms a MB, measured).
 *
 * `sanitizeEmailHtml` writes new HTML from the tokens, never passing the
 * mail's markup through: an element is written only when it is on the
 * allow-list, with only its allowed attributes, each written back quoted and
 * escaped; text is written with `<` and `>` escaped, so no run of text,
 * however the tags around it were dropped (`<<x>script>`), can become a tag;
 * comments, doctypes, CDATA and everything inside `<script>`, `<style>`,
 * `<svg>` and the like are never written. Safety so rests on how the output
 * is written, not on reading the input exactly as a browser would. A link
 * keeps its address only when it is http(s) or mailto once decoded and
 * parsed as a URL, and is written as that parsed URL with every `&` escaped,
 * so the browser follows exactly the address that was checked.
 *
 * Where SVG and MathML content ends, and so which text is outside it, is
 * decided by the standard's tree-building rules for foreign content
 * (./foreign.ts); so is where a skipped <select> or <template> ends.
 *
 * Cost: every search only moves forward, and the writer keeps its own stack
 * of the elements open, each pushed and popped once, so the work is linear
 * in the mail. An element that would be more than `MAX_HTML_DEPTH` deep is
 * left out (its text stays, and its close tag still closes it), so what the
 * panel renders is shallow whatever was sent. At most `MAX_HTML_READ`
 * characters are read.
 */
import { decodeEntities } from "./entities";
import { type AttributeOf, CLOSES_P, ENDS_SELECT, ForeignContent, OPENS_NOTHING } from "./foreign";
import { OpenElements, TABLE } from "./open-elements";

/** Most characters of HTML one mail may have read (Gmail clips at about 100 KB). */
export const MAX_HTML_READ = 1024 * 1024;
/** Deepest nesting written out; deeper elements are left out, their text kept. */
export const MAX_HTML_DEPTH = 100;
/** Longest sanitised HTML kept with a message. */
export const MAX_HTML_KEPT = 256 * 1024;
/** Longest link address kept. */
const MAX_HREF = 4096;

/** The elements written out; any other is left out and its text kept. */
// prettier-ignore
const ALLOWED = new Set([
  "a", "b", "blockquote", "br", "caption", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li",
  "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
  "tr", "u", "ul",
]);
/** Of those, the ones with no content and no close tag. */
const VOID = new Set(["br", "hr"]);
/**
 * Elements left out with everything in them: code, styles, forms, frames and
 * foreign content, none of it text a reader should see; and every element
 * whose content the parser reads as raw text (`<xmp>`, `<noscript>`), so no
 * such text is ever written.
 */
// prettier-ignore
export const SKIPPED = new Set([
  "script", "style", "template", "textarea", "select", "noscript", "title", "iframe", "noembed",
  "noframes", "xmp", "plaintext", "svg", "math",
]);
/** Of those, the roots of foreign content (SVG and MathML), whose own elements nest inside them. */
const FOREIGN = new Set(["svg", "math"]);
/**
 * Elements whose opening closes an open one, as browsers parse them (`<tr>`
 * ends an open `<td>`, `<li>` an open `<li>`; and the blocks of CLOSES_P, and
 * `<hr>`, an open `<p>`): writing the close keeps the unclosed `<p>` and
 * `<li>` of old mail from counting as depth.
 */
const IMPLIES_CLOSE = new Map<string, Set<string>>(
  Object.entries({
    tr: ["tr", "th", "td"],
    th: ["th", "td"],
    td: ["th", "td"],
    li: ["li"],
    tbody: ["thead", "tbody", "tr", "td", "th"],
    tfoot: ["thead", "tbody", "tr", "td", "th"],
  }).map(([name, closes]) => [name, new Set(closes)]),
);
const P = new Set(["p"]);
/**
 * Start tags before which a browser does not reopen formatting elements
 * (./active-formatting.ts): blocks, list items, headings, table parts, the
 * elements read as in the head, and those ignored. Before text and any other
 * start tag it does.
 */
// prettier-ignore
const REOPENS_NOTHING = new Set([
  ...[...CLOSES_P].filter((name) => name !== "xmp"), "li", "dd", "dt", "hr", "textarea", "iframe", "noembed",
  "noscript", "noframes", "script", "style", "title", "template", "base", "basefont", "bgsound", "link", "meta",
  "body", "html", "head", "frameset", "frame", "caption", "col", "colgroup", "tbody", "td", "tfoot", "th", "thead",
  "tr", "param", "source", "track", "rb", "rp", "rt", "rtc",
]);

const htmlTooLong = (length: number) =>
  `The HTML is ${length.toLocaleString("en")} characters long; the first ${MAX_HTML_READ.toLocaleString("en")} are shown.`;

/** Sanitised HTML, and what of it was not kept, in words. */
export interface SafeHtml {
  html: string;
  cut: string[];
}

/** Text escaped so that no character of it is markup; `&` stays, so the references the sender wrote still read. */
const escapeText = (text: string) => text.replaceAll("<", "&lt;").replaceAll(">", "&gt;");
/** An attribute value as the sender wrote it (references and all), made safe inside double quotes. */
const escapeRawValue = (raw: string) => escapeText(raw).replaceAll('"', "&quot;");
/** A decoded value, written so that the browser decodes it back to exactly this. */
const escapeValue = (value: string) => escapeRawValue(value.replaceAll("&", "&amp;"));

/**
 * A text node, written so that it reads as it did. Its characters stay as
 * the sender wrote them, references and all, but `<` and `>` are escaped, and
 * a reference left open at its end (`&amp`, `&#12`, `&`) is written whole
 * (or its `&` escaped): with the tag after it dropped, the next text would
 * otherwise continue it (`&amp` + `;` would read `&`, not `&;`).
 */
function textNode(raw: string): string {
  const amp = raw.lastIndexOf("&");
  if (amp < 0 || !/^(#[xX]?[0-9a-fA-F]*|[A-Za-z0-9]*)$/.test(raw.slice(amp + 1))) return escapeText(raw);
  const tail = raw.slice(amp);
  const decoded = decodeEntities(tail);
  return escapeText(raw.slice(0, amp)) + (decoded === tail ? `&amp;${tail.slice(1)}` : escapeValue(decoded));
}

/** The address a link may keep: http(s) or mailto once decoded and parsed, as parsed; else null. */
export function safeHref(raw: string | null): string | null {
  if (raw === null || raw.length > MAX_HREF) return null;
  // URL drops leading and trailing spaces and controls and any tab or newline inside, as browsers do.
  const url = URL.parse(decodeEntities(raw, true));
  return url && ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
}

/** The attributes an allowed element keeps, written out (with a leading space each), read from its tag (whose name ends at `from`). */
function attributes(name: string, html: string, from: number): string {
  if (name !== "a" && name !== "td" && name !== "th") return "";
  const raw = readAttributes(html, from);
  if (name === "a") {
    const href = safeHref(raw.get("href") ?? null);
    const title = raw.get("title");
    return (
      (href === null ? "" : ` href="${escapeValue(href)}"`) +
      (title === undefined ? "" : ` title="${escapeRawValue(title)}"`) +
      ' target="_blank" rel="noopener noreferrer nofollow"'
    );
  }
  let out = "";
  for (const span of ["colspan", "rowspan"]) {
    const value = raw.get(span)?.trim();
    if (value && /^[1-9]\d{0,2}$/.test(value)) out += ` ${span}="${value}"`;
  }
  return out;
}

/** The writer's work: elements and text nodes heard, and stack steps taken (tests read it to see the cost stays linear). */
export interface SanitiseWork {
  nodes: number;
  steps: number;
}

/**
 * Sanitises mail HTML: only the allow-listed elements, links only to
 * http(s) and mailto (opening in a new tab, no referrer), no script, style,
 * images or any other remote resource, no event handlers (see the file's
 * header). The panel also renders it in a sandboxed iframe with a CSP.
 */
export function sanitizeEmailHtml(html: string, work?: SanitiseWork): SafeHtml {
  const input = html.length > MAX_HTML_READ ? html.slice(0, MAX_HTML_READ) : html;
  const cut = input.length < html.length ? [htmlTooLong(html.length)] : [];
  const out: string[] = [];
  let length = 0;
  const write = (s: string) => {
    out.push(s);
    length += s.length;
  };
  const count = work ?? { nodes: 0, steps: 0 };
  // The elements open: those written, those cut for depth and those left out (see ./open-elements.ts).
  const open = new OpenElements();
  const closeTo = (depth: number) =>
    open.popTo(depth, (name, written) => {
      count.steps++;
      if (written) write(`</${name}>`);
    });
  // The element whose content is being left out, and how many of its name are open inside it (a <template> may
  // hold one); or the SVG or MathML content being left out, whose end the standard's tree-building rules decide.
  let skipping: { name: string; nested: number } | null = null;
  const foreign = new ForeignContent(count, () => open.place());
  let dropped = 0;
  tokenize(input, {
    text(start, end) {
      count.nodes++;
      if (skipping || foreign.active) return;
      open.reopen();
      write(textNode(input.slice(start, end)));
    },
    open(name, from, end) {
      count.nodes++;
      // `<svg/>`, `<path/>`: in SVG and MathML a self-closing tag opens nothing.
      const empty = input.charCodeAt(end - 2) === 47; /* / */
      if (foreign.active) {
        if (foreign.open(name, attributeOf(input, from), empty)) return;
        // It broke out of the foreign content, which has ended: it is read as HTML below.
      } else if (skipping) {
        // Only a <select> ends at a start tag: another <select> (which opens none), <input>, <keygen> or
        // <textarea>, and in a table a table's part.
        if (name === skipping.name) skipping.nested++;
        const endsSelect = ENDS_SELECT.has(name) || (TABLE.has(name) && open.place() !== null);
        if (skipping.name !== "select" || !endsSelect) return;
        skipping = null;
        if (name === "select") return;
      }
      if (!REOPENS_NOTHING.has(name)) open.reopen();
      if (SKIPPED.has(name)) {
        if (FOREIGN.has(name)) foreign.open(name, attributeOf(input, from), empty);
        else skipping = { name, nested: 1 };
        return;
      }
      // A table's part outside a table opens nothing for browsers, and is left out.
      if (name !== "table" && TABLE.has(name) && open.place() === null) return;
      const allowed = ALLOWED.has(name);
      if (!allowed) {
        // Left out, but open for a browser (unless it is void or ignored there): its close tag and its scope count.
        if (OPENS_NOTHING.has(name) || (name === "form" && open.find("form") >= 0)) return;
        if ((name === "option" || name === "optgroup") && open.innermost === "option") closeTo(open.depth - 1);
        const item = name === "dd" || name === "dt" ? open.itemCloses() : -1;
        if (item >= 0) closeTo(item);
      }
      // In a table (not in its cell or caption) a <table> ends it, and begins another.
      if (name === "table" && open.place() === "table") closeTo(open.table);
      const closes = IMPLIES_CLOSE.get(name) ?? (CLOSES_P.has(name) || name === "hr" ? P : undefined);
      for (let inner = open.innermostAllowed(); inner && closes?.has(inner.name); inner = open.innermostAllowed()) {
        closeTo(inner.at);
      }
      if (!allowed) open.push(name, false, false);
      else if (VOID.has(name)) write(`<${name}>`);
      // Deeper than the bound it is not written, but kept open (unwritten), so its close tag closes it.
      else if (open.allowedDepth >= MAX_HTML_DEPTH) {
        dropped++;
        open.push(name, true, false);
      } else {
        write(`<${name}${attributes(name, input, from)}>`);
        open.push(name, true, true);
      }
    },
    close(name) {
      count.nodes++;
      if (foreign.active && foreign.close(name)) return;
      if (skipping) {
        // Its own close tag ends it; so does that of a table's part it is inside, for a <select> in a table (and
        // closes that part). No other close tag reaches out of a <select> or a <template>.
        if (name === skipping.name) {
          if (--skipping.nested === 0) skipping = null;
          return;
        }
        if (skipping.name !== "select" || !TABLE.has(name) || open.closes(name) < 0) return;
        skipping = null;
      }
      const at = open.closes(name);
      if (foreign.active) {
        // Read as HTML: a close tag of an element the foreign content is inside ends it, and closes that
        // (`</form>` takes its form out of the stack, and leaves open what was in it).
        if (at < 0 || name === "form") return;
        foreign.end();
      }
      if (at >= 0) closeTo(at);
      else if (name === "br") write("<br>"); // `</br>` is a line break to browsers
    },
    html: () => foreign.html,
    // In a <select> only a <script> opens (one of those raw text), as parse5 has it; a <textarea> ended it.
    rawText: (name) => foreign.html && NOT_TEXT.has(name) && (skipping?.name !== "select" || name === "script"),
  });
  closeTo(0);
  if (dropped > 0) {
    cut.push(
      `${dropped.toLocaleString("en")} HTML tags nested deeper than ${MAX_HTML_DEPTH} levels were left out; their text is kept.`,
    );
  }
  const clean = out.join("");
  if (length <= MAX_HTML_KEPT) return { html: clean, cut };
  // Never inside a tag (in what was written every `<` begins one: text has `&lt;`), nor inside a reference.
  let end = MAX_HTML_KEPT;
  const lt = clean.lastIndexOf("<", end - 1);
  const amp = clean.lastIndexOf("&", end - 1);
  if (lt >= 0 && clean.indexOf(">", lt) >= end) end = lt;
  else if (amp >= 0 && end - amp < 40 && clean.indexOf(";", amp) >= end) end = amp;
  return {
    html: clean.slice(0, end),
    cut: [
      ...cut,
      `The formatted mail is ${length.toLocaleString("en")} characters long once made safe; the first ${MAX_HTML_KEPT.toLocaleString("en")} are kept.`,
    ],
  };
}

/** Elements whose content is not text: skipped by `htmlToText` (all that the tokenizer reads as raw text). */
// prettier-ignore
export const NOT_TEXT = new Set([
  "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext",
]);
/** Close tags that end a line of text (and `<br>`, which is one). */
const LINE_ENDS = new Set(["br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"]);

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 12 || c === 13;

/**
 * Reads the attributes of the tag whose name ends at `from`, as the
 * standard's attribute states read them (a quoted value may hold a `>`; a
 * quote only opens a value right after `=`), to its `>` or the end of
 * `html`. `found` hears each (name in lower case, value as written, `null`
 * for none); the return is where the tag ends, after its `>`, or -1 when the
 * end of `html` came first (such a tag is no tag and no text).
 */
function readTag(html: string, from: number, found?: (name: string, value: string | null) => void): number {
  let name = -1; // where the attribute name being read begins
  let nameEnd = -1;
  let valueStart = -1;
  // 0: before a name, 1: in a name, 2: after a name, 3: before a value, 4: in an unquoted value.
  let state = 0;
  const endName = (at: number) => {
    if (nameEnd < 0) nameEnd = at;
  };
  const hear = (value: string | null) => {
    if (found && name >= 0) found(html.slice(name, nameEnd).toLowerCase(), value);
    name = nameEnd = valueStart = -1;
  };
  for (let i = from; i < html.length; i++) {
    const c = html.charCodeAt(i);
    if (state === 3 && (c === 34 || c === 39) /* " ' */) {
      const close = html.indexOf(html[i]!, i + 1);
      if (close < 0) return -1;
      hear(html.slice(i + 1, close));
      i = close;
      state = 0;
    } else if (c === 62 /* > */) {
      if (state === 4) hear(html.slice(valueStart, i));
      else if (state === 3) hear("");
      else if (state !== 0) {
        endName(i);
        hear(null);
      }
      return i + 1;
    } else if (state === 4) {
      if (isSpace(c)) {
        hear(html.slice(valueStart, i));
        state = 0;
      }
    } else if (isSpace(c)) {
      if (state === 1) {
        endName(i);
        state = 2;
      }
    } else if (c === 47 /* / */ && state !== 3) {
      if (state === 1 || state === 2) {
        endName(i);
        hear(null);
      }
      state = 0;
    } else if (c === 61 /* = */ && (state === 1 || state === 2)) {
      endName(i);
      state = 3;
    } else if (state === 3) {
      valueStart = i;
      state = 4;
    } else {
      if (state === 2) hear(null); // `a b`: a had no value
      if (state !== 1) {
        name = i;
        state = 1;
      }
    }
  }
  return -1;
}

/** Reads the attributes of the tag whose name ends at `from` only when one is asked for. */
function attributeOf(html: string, from: number): AttributeOf {
  let read: Map<string, string> | undefined;
  return (name) => (read ??= readAttributes(html, from)).get(name);
}

/** The attributes of the tag whose name ends at `from`, the first of each name kept, values as written. */
function readAttributes(html: string, from: number): Map<string, string> {
  const found = new Map<string, string>();
  // The tag's own `>` is at `end - 1`, so the read stops there: nothing past the tag is looked at.
  readTag(html, from, (name, value) => {
    if (!found.has(name)) found.set(name, value ?? "");
  });
  return found;
}

/** Where the raw text of `name` (lower case) that begins at `from` ends: at its `</name`, or at the end. */
function rawTextEnd(html: string, name: string, from: number): number {
  for (let at = html.indexOf("</", from); at >= 0; at = html.indexOf("</", at + 2)) {
    const after = html.charCodeAt(at + 2 + name.length);
    if (
      html.slice(at + 2, at + 2 + name.length).toLowerCase() === name &&
      (Number.isNaN(after) || isSpace(after) || after === 47 /* / */ || after === 62) /* > */
    ) {
      return at;
    }
  }
  return html.length;
}

/** Whether `html` has `script` (any case) at `at`, followed by a space, `/` or `>` (or the end). */
function scriptTagAt(html: string, at: number): boolean {
  const after = html.charCodeAt(at + 6);
  return (
    html.slice(at, at + 6).toLowerCase() === "script" &&
    (Number.isNaN(after) || isSpace(after) || after === 47 /* / */ || after === 62) /* > */
  );
}

/**
 * Where the text of a <script> that begins at `from` ends, as the standard's
 * script data states read it: at its `</script`, except inside a `<!--`
 * that holds a `<script>` of its own, where a `</script>` ends only that
 * one (`<script><!--<script></script>--></script>`), until a `-->`.
 */
function scriptEnd(html: string, from: number): number {
  let state = 0; // 0: script data, 1: escaped (after `<!--`), 2: double escaped (a `<script>` inside that)
  for (let at = from; at < html.length; at++) {
    const c = html.charCodeAt(at);
    // `-->` ends the escape; its dashes may be the `<!--`'s own (`<!-->`), never any before it.
    if (c === 62 /* > */ && state > 0 && html.startsWith("--", at - 2)) state = 0;
    else if (c !== 60 /* < */) continue;
    else if (html.charCodeAt(at + 1) === 47 /* / */ && scriptTagAt(html, at + 2)) {
      if (state < 2) return at;
      state = 1;
    } else if (state === 0 && html.startsWith("<!--", at)) state = 1;
    else if (state === 1 && scriptTagAt(html, at + 1)) state = 2;
  }
  return html.length;
}

/** Where a comment whose text begins at `from` ends: after `-->` or `--!>`; `<!-->` and `<!--->` end at once. */
function commentEnd(html: string, from: number): number {
  if (html.startsWith(">", from)) return from + 1;
  if (html.startsWith("->", from)) return from + 2;
  // The nearest `--` each time, never a search to the end per comment (100,000 comments would make that quadratic).
  for (let at = html.indexOf("--", from); at >= 0; at = html.indexOf("--", at + 1)) {
    if (html.charCodeAt(at + 2) === 62 /* > */) return at + 3;
    if (html.startsWith("!>", at + 2)) return at + 4;
  }
  return html.length;
}

/** What the tokenizer hands on: text as `html[start, end)`; tags by name (lower case), an open tag with where its attributes are. */
interface Tokens {
  text(start: number, end: number): void;
  open(name: string, attributesFrom: number, end: number): void;
  close(name: string): void;
  /** Whether the element now current is an HTML one (not SVG or MathML): only elsewhere is CDATA read. */
  html(): boolean;
  /**
   * Whether the content of the start tag `name` just handed on is raw text:
   * one of NOT_TEXT, opened as an HTML element (`<svg><style>` holds markup),
   * where it opens one (a `<select>` ignores a `<title>`).
   */
  rawText(name: string): boolean;
}

/**
 * Reads `html` once, front to back, handing on text and tags (see the
 * file's header). The content of a raw-text element (`NOT_TEXT`) is not
 * handed on: none of it is markup, and none of it is text a reader sees.
 * Inside `<svg>` and `<math>` no element is raw text, as the standard has it.
 */
function tokenize(html: string, on: Tokens): void {
  let text = 0; // where the text not yet handed on begins
  const take = (end: number) => {
    if (end > text) on.text(text, end);
  };
  for (let lt = html.indexOf("<"); lt >= 0; lt = html.indexOf("<", lt + 1)) {
    const next = html.charCodeAt(lt + 1);
    const closing = next === 47; /* / */
    let end: number;
    if (isLetter(next) || (closing && isLetter(html.charCodeAt(lt + 2)))) {
      let i = lt + (closing ? 2 : 1);
      const start = i;
      while (i < html.length && !isSpace(html.charCodeAt(i)) && html[i] !== "/" && html[i] !== ">") i++;
      const name = html.slice(start, i).toLowerCase();
      end = readTag(html, i);
      take(lt);
      if (end < 0) {
        text = html.length; // a tag cut off by the end is no tag and no text
        return;
      }
      if (closing) on.close(name);
      else {
        on.open(name, i, end);
        if (on.rawText(name)) {
          if (name === "plaintext") end = html.length;
          else if (name === "script") end = scriptEnd(html, end);
          else end = rawTextEnd(html, name, end);
        }
      }
    } else if (html.startsWith("<!--", lt)) {
      take(lt);
      end = commentEnd(html, lt + 4);
    } else if (html.startsWith("<![CDATA[", lt) && !on.html()) {
      take(lt); // a CDATA section, read only in SVG and MathML (elsewhere it is a bogus comment, to the first `>`)
      const close = html.indexOf("]]>", lt + 9);
      end = close < 0 ? html.length : close + 3;
    } else if (next === 33 /* ! */ || next === 63 /* ? */ || (closing && lt + 2 < html.length)) {
      take(lt);
      const close = html.indexOf(">", lt + 2);
      end = close < 0 ? html.length : close + 1;
    } else {
      continue; // a `<` that begins nothing is text (and `</` at the very end)
    }
    text = end;
    lt = end - 1;
  }
  take(html.length);
}

/**
 * Plain text of an HTML-only mail, for display and previews: tags dropped,
 * references decoded, a line break at `<br>` and at the end of a paragraph,
 * block, list item, table row or heading; trailing blanks off every line
 * and at most one empty line in a row.
 *
 * One pass over the first `MAX_HTML_READ` characters with the HTML
 * standard's tokenizing rules, as far as text needs them: a tag begins with
 * `<` and a letter (or `</` and a letter) and ends at the first `>` outside
 * a quoted attribute value; comments and `<!…>` / `<?…>` are skipped; the
 * content of `<script>`, `<style>`, `<title>` and the other raw-text elements
 * is skipped to its close tag. No tree is built and every search only moves
 * forward, so nesting costs nothing and the work is linear in the HTML.
 */
export function htmlToText(html: string): { text: string; cut: string[] } {
  const input = html.length > MAX_HTML_READ ? html.slice(0, MAX_HTML_READ) : html;
  const parts: string[] = [];
  // Only to know where content is raw text: SVG's and MathML's own text is text here.
  const foreign = new ForeignContent();
  tokenize(input, {
    text: (start, end) => parts.push(decodeEntities(input.slice(start, end))),
    open(name, from, end) {
      if (foreign.active || FOREIGN.has(name)) {
        foreign.open(name, attributeOf(input, from), input.charCodeAt(end - 2) === 47 /* / */);
      }
      if (name === "br") parts.push("\n");
    },
    close(name) {
      foreign.close(name);
      if (LINE_ENDS.has(name)) parts.push("\n");
    },
    html: () => foreign.html,
    rawText: (name) => foreign.html && NOT_TEXT.has(name),
  });
  const lines: string[] = [];
  for (const line of parts.join("").replaceAll("\u00a0", " ").split("\n")) {
    let end = line.length;
    while (end > 0 && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
    if (end === 0 && lines.at(-1) === "") continue;
    lines.push(line.slice(0, end));
  }
  return { text: lines.join("\n").trim(), cut: input.length < html.length ? [htmlTooLong(html.length)] : [] };
}
