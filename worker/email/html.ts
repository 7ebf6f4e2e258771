/**
 * A mail's HTML, made safe to show and bounded in what it costs.
 *
 * sanitize-html does the sanitising; its parser (htmlparser2) keeps its stack of open elements in an array it shifts and
 * unshifts and searches for every close tag, so its cost per tag grows with
 * the nesting depth: `<div>` × 100,000, or open tags followed by stray closes,
 * made one mail cost seconds, and a sender chooses the depth. So before the
 * sanitiser sees the HTML, `boundHtml` reads it once with htmlparser2's own
 * Tokenizer (so it sees exactly the tags the parser will see) and
 *  - reads at most `MAX_HTML_READ` characters of it,
 *  - keeps its own stack of open elements, closing them as the parser does
 *    (by close tag, and by the parser's own implied closes: `<p>` ends a
 *    `<p>`),
 *  - leaves out any open tag that would be more than `MAX_HTML_DEPTH` levels
 *    deep (its text stays; only the structure is flattened), and
 *  - before a close tag that ends several elements, writes out the close tags
 *    of the ones inside it, so the parser ends the same ones even where it
 *    had closed the outer one already.
 * So the parser's stack is only ever a part of ours, never deeper than
 * `MAX_HTML_DEPTH` (+1 for a raw-text element such as `<script>`, which
 * holds no tags), each tag costs it at most that many steps, and the whole
 * mail is linear in its size. What was left out is said in `cut`, and the
 * mail as it arrived is kept beside the message (inbound.ts). htmlToText
 * needs no tree at all: one pass of the same Tokenizer.
 */
import { Tokenizer, type TokenizerCallbacks } from "htmlparser2";
import sanitizeHtml from "sanitize-html";

/** Most characters of HTML one mail may have read (Gmail clips at about 100 KB). */
export const MAX_HTML_READ = 1024 * 1024;
/** Deepest nesting the sanitiser is shown; deeper open tags are left out, their text kept. */
export const MAX_HTML_DEPTH = 100;
/** Longest sanitised HTML kept with a message. */
export const MAX_HTML_KEPT = 256 * 1024;

/** Elements with no content and no close tag: htmlparser2's own list, so no element is pushed by one and not the other. */
// prettier-ignore
const VOID = new Set([
  "area", "base", "basefont", "br", "col", "command", "embed", "frame", "hr", "img",
  "input", "isindex", "keygen", "link", "meta", "param", "source", "track", "wbr",
]);
/**
 * Elements whose content the tokenizer reads as text. One too deep is kept
 * all the same (unless self-closed): were it left out, the parser would read
 * its content as tags where we read it as text.
 */
const RAW_TEXT = new Set(["script", "style", "title", "textarea", "xmp"]);
/**
 * htmlparser2's implied closes (its `openImpliesClose`): a `<p>` ends an open
 * `<p>`, a `<tr>` an open `<td>`, and so on. Following them keeps unclosed
 * `<p>`, `<li>` and `<td>`, as old HTML writes them, from counting as depth.
 * (Any subset of this table would still be safe: the parser's stack would
 * only ever be shallower than ours.)
 */
const P = ["p"];
const FORM = ["input", "option", "optgroup", "select", "button", "datalist", "textarea"];
const IMPLIES_CLOSE = new Map<string, Set<string>>(
  Object.entries({
    tr: ["tr", "th", "td"],
    th: ["th"],
    td: ["thead", "th", "td"],
    body: ["head", "link", "script"],
    li: ["li"],
    select: FORM,
    input: FORM,
    output: FORM,
    button: FORM,
    datalist: FORM,
    textarea: FORM,
    option: ["option"],
    optgroup: ["optgroup", "option"],
    dd: ["dd", "dt"],
    dt: ["dd", "dt"],
    rt: ["rt", "rp"],
    rp: ["rt", "rp"],
    tbody: ["thead", "tbody"],
    tfoot: ["thead", "tbody"],
    ...Object.fromEntries(
      "p h1 h2 h3 h4 h5 h6 address article aside blockquote details div dl fieldset figcaption figure footer form header hr main nav ol pre section table ul"
        .split(" ")
        .map((name) => [name, P]),
    ),
  }).map(([name, closes]) => [name, new Set(closes)]),
);

/** Every token, unheard: each pass below listens only to the ones it needs. */
const IGNORED: TokenizerCallbacks = {
  onattribdata() {},
  onattribentity() {},
  onattribend() {},
  onattribname() {},
  oncdata() {},
  onclosetag() {},
  oncomment() {},
  ondeclaration() {},
  onend() {},
  onopentagend() {},
  onopentagname() {},
  onprocessinginstruction() {},
  onselfclosingtag() {},
  ontext() {},
  ontextentity() {},
};

const htmlTooLong = (length: number) =>
  `The HTML is ${length.toLocaleString("en")} characters long; the first ${MAX_HTML_READ.toLocaleString("en")} are shown.`;

/** HTML bounded for the sanitiser, and what of it was not kept, in words. */
export interface BoundedHtml {
  html: string;
  cut: string[];
}

/** The first `MAX_HTML_READ` characters of `html`, nested at most `MAX_HTML_DEPTH` deep (see the file's header). */
export function boundHtml(html: string): BoundedHtml {
  const input = html.length > MAX_HTML_READ ? html.slice(0, MAX_HTML_READ) : html;
  const out: string[] = [];
  const open: string[] = [];
  let copied = 0; // input[0, copied) is in `out` already
  // The open tag being read: where its `<` is, its name, how deep the stack is once the tags it
  // implies closed are closed, and whether it is too deep to keep.
  let tag = { start: -1, name: "", depth: 0, tooDeep: false };
  let dropped = 0;
  const endOpenTag = (end: number, selfClosing: boolean) => {
    // A raw-text element (`<script>`) too deep is kept, since the tokenizer reads what follows it as
    // text, and it holds no tags; once `<script/>` has shown it holds nothing, it can go as well.
    if (tag.tooDeep && (selfClosing || !RAW_TEXT.has(tag.name))) {
      // An empty comment stands in for it, so what was before it and what comes after are not joined
      // into something else (`<` + `<div>` + `text` would become the tag `<text`; `&amp` + `;` an entity).
      out.push(input.slice(copied, tag.start), "<!---->");
      copied = end + 1;
      dropped++;
      return;
    }
    open.length = tag.depth;
    if (!VOID.has(tag.name)) open.push(tag.name);
  };
  const tokenizer = new Tokenizer(
    { xmlMode: false, decodeEntities: true },
    {
      ...IGNORED,
      onopentagname(start, end) {
        const name = input.slice(start, end).toLowerCase();
        // The elements this one closes by being opened, as the parser will close them.
        const closes = IMPLIES_CLOSE.get(name);
        let depth = open.length;
        while (closes && depth > 0 && closes.has(open[depth - 1]!)) depth--;
        tag = { start: start - 1, name, depth, tooDeep: depth >= MAX_HTML_DEPTH && !VOID.has(name) };
      },
      onopentagend: (end) => endOpenTag(end, false),
      // HTML ignores the slash: `<div/>` opens a div, as the parser has it. (Inside SVG and MathML the
      // parser closes it at once; counting it as open there is the safe side: our stack is never shallower.)
      onselfclosingtag: (end) => endOpenTag(end, true),
      onclosetag(start, end) {
        const name = input.slice(start, end).toLowerCase();
        const at = open.lastIndexOf(name);
        if (at < 0) return; // a stray close tag: the parser looks for it and ignores it
        // Close what this one ends, by name, so the parser ends the same elements.
        const lt = input.lastIndexOf("<", start);
        out.push(input.slice(copied, lt));
        for (let i = open.length - 1; i > at; i--) out.push(`</${open[i]!}>`);
        copied = lt;
        open.length = at;
      },
    },
  );
  tokenizer.write(input);
  tokenizer.end();
  // An open tag cut off by the end opens nothing, so it is passed on as it is: the parser then reads
  // those last bytes exactly as it would have (some of them, like `<text </`, as text). What is still
  // open stays open: the parser closes it at the end, at no cost per tag.
  out.push(input.slice(copied));

  const cut: string[] = [];
  if (input.length < html.length) cut.push(htmlTooLong(html.length));
  if (dropped > 0) {
    cut.push(
      `${dropped.toLocaleString("en")} HTML tags nested deeper than ${MAX_HTML_DEPTH} levels were left out; their text is kept.`,
    );
  }
  return { html: out.join(""), cut };
}

/**
 * Sanitises mail HTML with sanitize-html: no script, no style, no images or
 * any other remote resource, no event handlers; links keep only http(s) and
 * mailto. The panel also renders it in a sandboxed iframe with a CSP.
 */
export function sanitizeEmailHtml(html: string): BoundedHtml {
  const bounded = boundHtml(html);
  const clean = sanitizeHtml(bounded.html, {
    allowedTags: [
      "a",
      "b",
      "blockquote",
      "br",
      "caption",
      "code",
      "div",
      "em",
      "h1",
      "h2",
      "h3",
      "h4",
      "h5",
      "h6",
      "hr",
      "i",
      "li",
      "ol",
      "p",
      "pre",
      "s",
      "small",
      "span",
      "strong",
      "sub",
      "sup",
      "table",
      "tbody",
      "td",
      "tfoot",
      "th",
      "thead",
      "tr",
      "u",
      "ul",
    ],
    allowedAttributes: {
      a: ["href", "title", "target", "rel"],
      td: ["colspan", "rowspan"],
      th: ["colspan", "rowspan"],
    },
    allowedSchemes: ["http", "https", "mailto"],
    allowProtocolRelative: false,
    disallowedTagsMode: "discard",
    nonTextTags: ["script", "style", "textarea", "option", "noscript", "title", "head"],
    transformTags: {
      a: sanitizeHtml.simpleTransform("a", { target: "_blank", rel: "noopener noreferrer nofollow" }),
    },
  });
  if (clean.length <= MAX_HTML_KEPT) return { html: clean, cut: bounded.cut };
  // Cut before a tag, never inside one: in sanitised HTML every `<` begins a tag (text has `&lt;`).
  const at = clean.lastIndexOf("<", MAX_HTML_KEPT);
  return {
    html: clean.slice(0, at > 0 ? at : MAX_HTML_KEPT),
    cut: [
      ...bounded.cut,
      `The formatted mail is ${clean.length.toLocaleString("en")} characters long once made safe; the first ${MAX_HTML_KEPT.toLocaleString("en")} are kept.`,
    ],
  };
}

/** Elements whose content is not text: skipped by `htmlToText`. */
const NOT_TEXT = new Set(["script", "style", "title", "head"]);
/** Close tags that end a line of text (and `<br>`, which is one). */
const LINE_ENDS = new Set(["br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"]);

/**
 * Plain text of an HTML-only mail, for display and previews: tags dropped,
 * entities decoded, a line break at `<br>` and at the end of a paragraph,
 * block, list item, table row or heading; trailing blanks off every line
 * and at most one empty line in a row.
 *
 * One pass of htmlparser2's Tokenizer over the first `MAX_HTML_READ`
 * characters: no tree is built, so nesting costs nothing, and no pattern
 * here backtracks over a run of the input (the regular expressions this
 * replaces did: `<br[^>]*>` on `<br` × n with no `>`, and `[ \t]+\n` on a
 * long run of spaces, each quadratically).
 */
export function htmlToText(html: string): { text: string; cut: string[] } {
  const input = html.length > MAX_HTML_READ ? html.slice(0, MAX_HTML_READ) : html;
  const parts: string[] = [];
  let skipping = ""; // the element whose content is being skipped, or ""
  const name = (start: number, end: number) => input.slice(start, end).toLowerCase();
  const tokenizer = new Tokenizer(
    { xmlMode: false, decodeEntities: true },
    {
      ...IGNORED,
      ontext(start, end) {
        if (!skipping) parts.push(input.slice(start, end));
      },
      ontextentity(codepoint) {
        if (!skipping) parts.push(String.fromCodePoint(codepoint));
      },
      onopentagname(start, end) {
        const tag = name(start, end);
        // `<body>` ends a `<head>` left open, as the parser has it.
        if (skipping === "head" && tag === "body") skipping = "";
        if (skipping) return;
        if (NOT_TEXT.has(tag)) skipping = tag;
        else if (tag === "br") parts.push("\n");
      },
      onclosetag(start, end) {
        const tag = name(start, end);
        if (skipping) {
          if (tag === skipping) skipping = "";
        } else if (LINE_ENDS.has(tag)) {
          parts.push("\n");
        }
      },
    },
  );
  tokenizer.write(input);
  tokenizer.end();
  const lines: string[] = [];
  for (const line of parts.join("").replaceAll("\u00a0", " ").split("\n")) {
    let end = line.length;
    while (end > 0 && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
    if (end === 0 && lines.at(-1) === "") continue;
    lines.push(line.slice(0, end));
  }
  return { text: lines.join("\n").trim(), cut: input.length < html.length ? [htmlTooLong(html.length)] : [] };
}
