/**
 * What a visitor's request tells about them: IP address (CF-Connecting-IP),
 * User-Agent, and location from Cloudflare's `request.cf` geolocation.
 * The User-Agent is read by a small table of the browsers and systems that
 * matter to a support team (see `parseUserAgent`); the string is at most 512
 * characters and every pattern runs once over it, without backtracking.
 */
import type { GeoLocation, VisitorDevice } from "../protocol";

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  geo: GeoLocation | null;
}

function text(v: unknown, max = 100): string | null {
  return typeof v === "string" && v.length > 0 ? v.slice(0, max) : null;
}

function coord(v: unknown): number | null {
  const n = typeof v === "string" ? Number(v) : typeof v === "number" ? v : NaN;
  return Number.isFinite(n) ? n : null;
}

export function clientInfo(request: Request): ClientInfo {
  const cf = (request as Request & { cf?: Record<string, unknown> }).cf;
  const geo = cf
    ? {
        country: text(cf.country, 2),
        region: text(cf.region),
        city: text(cf.city),
        latitude: coord(cf.latitude),
        longitude: coord(cf.longitude),
        timezone: text(cf.timezone),
      }
    : null;
  return {
    ip: text(request.headers.get("CF-Connecting-IP"), 64),
    userAgent: text(request.headers.get("User-Agent"), 512),
    geo,
  };
}

export interface ParsedAgent {
  browser: { name: string; version: string | null } | null;
  os: { name: string; version: string | null } | null;
  device: VisitorDevice | null;
  bot: boolean;
}

/** Browsers, most specific first (Edge and Opera say "Chrome" too, Chrome says "Safari"). */
const BROWSERS: [name: string, pattern: RegExp][] = [
  ["Microsoft Edge", /\bEdg(?:e|A|iOS)?\/(\d[\d.]*)/],
  ["Opera", /\b(?:OPR|Opera)\/(\d[\d.]*)/],
  ["Samsung Internet", /\bSamsungBrowser\/(\d[\d.]*)/],
  ["Firefox", /\b(?:Firefox|FxiOS)\/(\d[\d.]*)/],
  // Chromium headless (automation, previews) says HeadlessChrome: it is Chrome all the same.
  ["Chrome", /\b(?:HeadlessChrome|Chrome|CriOS)\/(\d[\d.]*)/],
  ["Safari", /\bVersion\/(\d[\d.]*)[^)]*\bSafari\//],
  ["Internet Explorer", /\b(?:MSIE |Trident\/[\d.]+; rv:)(\d[\d.]*)/],
];

const WINDOWS: Record<string, string> = { "10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista" };

/** Systems: name and version (dots, not underscores). */
function system(ua: string): { name: string; version: string | null } | null {
  let m = /\b(?:iPhone|iPad|iPod)\b[^)]*? OS (\d+(?:_\d+)*)/.exec(ua);
  if (m) return { name: "iOS", version: m[1]!.replaceAll("_", ".") };
  m = /\bAndroid(?: (\d+(?:\.\d+)*))?/.exec(ua);
  if (m) return { name: "Android", version: m[1] ?? null };
  m = /\bWindows NT (\d+\.\d+)/.exec(ua);
  if (m) return { name: "Windows", version: WINDOWS[m[1]!] ?? m[1]! };
  if (/\bWindows\b/.test(ua)) return { name: "Windows", version: null };
  m = /\bMac OS X(?: (\d+(?:[._]\d+)*))?/.exec(ua);
  if (m) return { name: "macOS", version: m[1]?.replaceAll("_", ".") ?? null };
  if (/\bCrOS\b/.test(ua)) return { name: "Chrome OS", version: null };
  if (/\bLinux\b/.test(ua)) return { name: "Linux", version: null };
  return null;
}

/** Crawlers and other robots: a name ending in bot, spider or crawler before its version, or a well-known one. */
const BOT = /(?:bot|spider|crawler)\/|\b(?:Googlebot|bingbot|Slurp|facebookexternalhit|Bytespider)\b/i;

export function parseUserAgent(ua: string | null): ParsedAgent {
  if (!ua) return { browser: null, os: null, device: null, bot: false };
  const bot = BOT.test(ua);
  let browser: ParsedAgent["browser"] = null;
  for (const [name, pattern] of BROWSERS) {
    const m = pattern.exec(ua);
    if (m) {
      browser = { name, version: m[1] ?? null };
      break;
    }
  }
  const os = system(ua);
  let device: VisitorDevice | null = null;
  if (bot) device = "bot";
  else if (/\b(?:SmartTV|SMART-TV|AppleTV|GoogleTV|HbbTV|Web0S|BRAVIA)\b|\bTizen\b[^)]*\bTV\b/i.test(ua)) device = "tv";
  else if (/\biPad\b|\bTablet\b/.test(ua) || (os?.name === "Android" && !/\bMobile\b/.test(ua))) device = "tablet";
  else if (/\b(?:Mobi|iPhone|iPod)/.test(ua)) device = "mobile";
  else if (os && ["Windows", "macOS", "Linux", "Chrome OS"].includes(os.name)) device = "desktop";
  return { browser, os, device, bot };
}
