/**
 * Reading sanitised HTML back, as a browser's parser would: the runtime's
 * own HTMLRewriter (lol-html, the HTML standard's tokenizer), independent of
 * how the sanitiser wrote it.
 */
import { parse, parseFragment } from "parse5";
import { decodeEntities } from "../worker/email/entities";

/**
 * `html` as the runtime's parser reads it: the deepest its elements nest
 * (an element counts as open from its tag until its end tag, or its
 * parent's, closes it), and its text outside the elements in `skip`, with
 * references decoded and all white space taken out (where a line breaks is
 * not what is compared).
 */
export async function readBack(html: string, skip: ReadonlySet<string>): Promise<{ deepest: number; text: string }> {
  let depth = 0;
  let deepest = 0;
  let skipping = 0;
  const text: string[] = [];
  let node = "";
  await new HTMLRewriter()
    .on("*", {
      element(e) {
        const skipped = skip.has(e.tagName);
        try {
          e.onEndTag(() => {
            depth--;
            if (skipped) skipping--;
          });
        } catch {
          return; // no end tag: it holds nothing
        }
        depth++;
        deepest = Math.max(deepest, depth);
        if (skipped) skipping++;
      },
    })
    .onDocument({
      text(t) {
        if (skipping) return;
        node += t.text;
        if (!t.lastInTextNode) return;
        text.push(decodeEntities(node)); // each text node alone: a reference never runs on into the next
        node = "";
      },
    })
    .transform(new Response(html))
    .arrayBuffer();
  return { deepest, text: text.join("").replace(/[\s\u00a0]+/g, "") };
}

type Node = { nodeName: string; value?: string; childNodes?: Node[] };
/** A document's <body>: the panel shows a mail's HTML in one (an iframe's `srcdoc`), where a <td> outside a table is ignored. */
const BODY = (parse("<body>") as unknown as Node).childNodes![0]!.childNodes![1]!;

/**
 * The text of `html` as the HTML standard's tree builder reads it (parse5, the
 * algorithm browsers implement) inside a <body>, without what `skip`'s
 * elements hold, whitespace left out as `readBack` does. The runtime's parser
 * streams and builds no tree, so in a few constructs it places text
 * differently (an HTML end tag inside SVG closes the SVG for a browser, not
 * for it).
 */
export function standardText(html: string, skip: ReadonlySet<string>): string {
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.nodeName === "#text") out.push(n.value ?? "");
    else if (!skip.has(n.nodeName)) for (const c of n.childNodes ?? []) walk(c);
  };
  walk(parseFragment(BODY as never, html, {}) as unknown as Node);
  return out.join("").replace(/[\s\u00a0]+/g, "");
}

/** Every `<` of sanitised HTML begins an allowed tag, written as the sanitiser writes them. */
export const TAG = /<(\/?)([a-z0-9]+)((?: (?:href|title|target|rel|colspan|rowspan)="[^"<>]*")*)>/y;

/** Every element and attribute of `html` as the parser hears them, comments and doctypes counted. */
export async function inventory(html: string): Promise<{
  elements: { name: string; attributes: [string, string][] }[];
  comments: number;
  doctypes: number;
}> {
  const elements: { name: string; attributes: [string, string][] }[] = [];
  let comments = 0;
  let doctypes = 0;
  await new HTMLRewriter()
    .on("*", {
      element(e) {
        elements.push({ name: e.tagName, attributes: [...e.attributes] as [string, string][] });
      },
    })
    .onDocument({
      comments() {
        comments++;
      },
      doctype() {
        doctypes++;
      },
    })
    .transform(new Response(html))
    .arrayBuffer();
  return { elements, comments, doctypes };
}
