/**
 * What a visitor's request tells about them: IP address (CF-Connecting-IP),
 * User-Agent, and location from Cloudflare's `request.cf` geolocation.
 * The User-Agent is parsed with bowser (MIT; ua-parser-js moved to AGPL).
 */
import Bowser from "bowser";
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

export function parseUserAgent(ua: string | null): ParsedAgent {
  if (!ua) return { browser: null, os: null, device: null, bot: false };
  const p = Bowser.parse(ua);
  const type = p.platform.type;
  const device: VisitorDevice | null =
    type === "desktop" || type === "mobile" || type === "tablet" || type === "tv" || type === "bot" ? type : null;
  return {
    browser: p.browser.name ? { name: p.browser.name, version: p.browser.version ?? null } : null,
    os: p.os.name ? { name: p.os.name, version: p.os.versionName ?? p.os.version ?? null } : null,
    device,
    bot: type === "bot",
  };
}
