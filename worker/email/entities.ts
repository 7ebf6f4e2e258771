/**
 * HTML character references (`&amp;`, `&#8364;`, `&eacute;`) decoded, for the
 * text of HTML-only mail and for checking a link's scheme.
 *
 * Numeric references are decoded as the HTML standard says, including its
 * Windows-1252 reading of `&#128;`–`&#159;` (old mail writes `&#150;` for an
 * en dash). Named references are a chosen set, not the standard's 2,231: the
 * Latin-1 letters and signs, typography, arrows, and the punctuation names a
 * crafted link uses (`&colon;`, `&Tab;`). The whole table would weigh more
 * than the rest of the Worker's mail code together. A name outside the set
 * is left as written, which is safe where it matters: a link is checked and
 * then written back with every `&` escaped, so the browser follows exactly
 * the address that was checked, never one decoded differently.
 *
 * A name the table does not have is left as written when a `;` follows it
 * (the browser may know it); without one, the longest legacy name it begins
 * with is read, as HTML reads `&copy2026` and `&amptext`.
 *
 * One pass, each character read a bounded number of times: linear in the text.
 */

/** The Latin-1 names, U+00A0 to U+00FF in order; like `amp`, `lt`, `gt` and `quot`, HTML also reads these without a `;`. */
// prettier-ignore
const LATIN1 = [
  "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo", "not", "shy",
  "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot", "cedil", "sup1", "ordm",
  "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig",
  "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve",
  "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN",
  "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil", "egrave", "eacute", "ecirc",
  "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml",
  "divide", "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
];

/** Names read only with their `;`: typography, arrows, and the punctuation names. */
// prettier-ignore
const OTHERS: Record<string, number> = {
  apos: 39, OElig: 338, oelig: 339, Scaron: 352, scaron: 353, Yuml: 376, fnof: 402, circ: 710, tilde: 732,
  ensp: 8194, emsp: 8195, thinsp: 8201, zwnj: 8204, zwj: 8205, lrm: 8206, rlm: 8207, ndash: 8211, mdash: 8212,
  lsquo: 8216, rsquo: 8217, sbquo: 8218, ldquo: 8220, rdquo: 8221, bdquo: 8222, dagger: 8224, Dagger: 8225,
  bull: 8226, hellip: 8230, permil: 8240, prime: 8242, Prime: 8243, lsaquo: 8249, rsaquo: 8250, oline: 8254,
  frasl: 8260, euro: 8364, trade: 8482, larr: 8592, uarr: 8593, rarr: 8594, darr: 8595, harr: 8596, minus: 8722,
  infin: 8734, asymp: 8776, ne: 8800, le: 8804, ge: 8805, hearts: 9829, check: 10003, ZeroWidthSpace: 8203,
  NoBreak: 8288, Tab: 9, NewLine: 10, excl: 33, num: 35, dollar: 36, percnt: 37, lpar: 40, rpar: 41, ast: 42,
  plus: 43, comma: 44, period: 46, sol: 47, colon: 58, semi: 59, equals: 61, quest: 63, commat: 64, lsqb: 91,
  bsol: 92, rsqb: 93, Hat: 94, lowbar: 95, grave: 96, lcub: 123, verbar: 124, rcub: 125,
};

/** Names HTML also reads without a `;` (the "legacy" ones), with their code points. */
const LEGACY = new Map<string, number>([
  ...LATIN1.map((name, i): [string, number] => [name, 0xa0 + i]),
  ...Object.entries({ amp: 38, lt: 60, gt: 62, quot: 34, AMP: 38, LT: 60, GT: 62, QUOT: 34, COPY: 169, REG: 174 }),
]);
const NAMED = new Map<string, number>([...LEGACY, ...Object.entries(OTHERS)]);

/** What HTML reads `&#128;`–`&#159;` as: the Windows-1252 characters at those bytes (0 where it keeps the number). */
// prettier-ignore
const WINDOWS_1252 = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
  0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

/** The longest name worth looking up (the longest in the table is 14). */
const MAX_NAME = 16;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isAlnum = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** The longest name of `LEGACY` that `run` begins with, or "". */
function longestLegacy(run: string): string {
  for (let k = Math.min(run.length, 6); k >= 2; k--) if (LEGACY.has(run.slice(0, k))) return run.slice(0, k);
  return "";
}

/** The character a numeric reference stands for, as HTML reads it (U+FFFD for none). */
function fromCodePoint(n: number): string {
  if (n >= 0x80 && n <= 0x9f && WINDOWS_1252[n - 0x80]) return String.fromCodePoint(WINDOWS_1252[n - 0x80]!);
  if (n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return "\ufffd";
  return String.fromCodePoint(n);
}

/**
 * `text` with its character references decoded. `inAttribute`: HTML's rule
 * for attribute values, where a name without `;` followed by `=` is left as
 * written (`?a=1&copy=2` stays a query string).
 */
export function decodeEntities(text: string, inAttribute = false): string {
  let at = text.indexOf("&");
  if (at < 0) return text;
  const out: string[] = [];
  let copied = 0;
  while (at >= 0) {
    let end = at + 1;
    let decoded: string | null = null;
    if (text.charCodeAt(end) === 35 /* # */) {
      const hex = text.charCodeAt(end + 1) === 120 || text.charCodeAt(end + 1) === 88; // x X
      let i = end + (hex ? 2 : 1);
      const start = i;
      let n = 0;
      while (i < text.length && (hex ? isHex(text.charCodeAt(i)) : isDigit(text.charCodeAt(i)))) {
        // Past the last code point the value no longer matters (it reads as U+FFFD): stop it growing.
        if (n <= 0x10ffff) n = n * (hex ? 16 : 10) + parseInt(text[i]!, 16);
        i++;
      }
      if (i > start) {
        decoded = fromCodePoint(n);
        end = text.charCodeAt(i) === 59 /* ; */ ? i + 1 : i;
      }
    } else {
      let i = end;
      while (i < text.length && i - end <= MAX_NAME && isAlnum(text.charCodeAt(i))) i++;
      const name = text.slice(end, i);
      const code = text.charCodeAt(i) === 59 ? NAMED.get(name) : undefined;
      if (code !== undefined) {
        decoded = String.fromCodePoint(code);
        end = i + 1;
      } else if (text.charCodeAt(i) !== 59) {
        // No `;`: the longest legacy name the run begins with (`&copy2026`, `&amptext`); in an attribute
        // only the whole run, and not before `=` (there `&copy=2` is a query string).
        const legacy = inAttribute
          ? text.charCodeAt(i) !== 61 /* = */ && LEGACY.has(name)
            ? name
            : ""
          : longestLegacy(name);
        if (legacy) {
          decoded = String.fromCodePoint(LEGACY.get(legacy)!);
          end = at + 1 + legacy.length;
        }
      }
    }
    if (decoded !== null) {
      out.push(text.slice(copied, at), decoded);
      copied = end;
    }
    at = text.indexOf("&", Math.max(end, at + 1));
  }
  out.push(text.slice(copied));
  return out.join("");
}
