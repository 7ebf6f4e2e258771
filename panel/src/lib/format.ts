/** How visitors, times and statuses are written in the panel. */
import { createSignal } from "solid-js";
import type { ConversationStatus, VisitorRef } from "../../../worker/protocol";

const clean = (s: string | null | undefined): string => (s ?? "").trim();

/** Name, else email, else "Visitor #abc123". */
export function visitorName(v: VisitorRef): string {
  return clean(v.name) || clean(v.email) || `Visitor #${v.id.slice(0, 6)}`;
}

/** The first letter or digit of `s`, upper-cased ("" if it has none: "<b>" → "B", "!!!" → ""). */
function initial(s: string | null | undefined): string {
  return (
    Array.from(clean(s))
      .find((c) => /[\p{L}\p{N}]/u.test(c))
      ?.toLocaleUpperCase() ?? ""
  );
}

/**
 * A visitor's avatar letter: the first letter or digit of their name, else
 * of their email, else one taken from their id, so an anonymous visitor
 * keeps the same letter everywhere and across visits.
 */
export function visitorInitial(v: VisitorRef): string {
  return initial(v.name) || initial(v.email) || initial(v.id) || "V";
}

/** How many avatar colours there are (`.avatar-c0` … in styles.css). */
export const AVATAR_COLOURS = 8;

/** A visitor's avatar colour, 0 to AVATAR_COLOURS - 1: from their id, so it never changes (FNV-1a). */
export function avatarColour(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % AVATAR_COLOURS;
}

/** An operator's avatar letter: the first letter or digit of their name. */
export function personInitial(name: string): string {
  return initial(name) || "?";
}

// One clock for every relative time on screen, ticking twice a minute.
const [now, setNow] = createSignal(Date.now());
setInterval(() => setNow(Date.now()), 30_000);
export { now };

/** "now", "5m", "3h", "Yesterday", "Mon", "12 Mar", "12 Mar 2023". */
export function relativeTime(at: number, current = now()): string {
  const diff = Math.max(0, current - at);
  if (diff < 60_000) return "now";
  if (diff < 3_600_000) return `${Math.floor(diff / 60_000)}m`;
  const d = new Date(at);
  const today = new Date(current);
  if (diff < 86_400_000 && d.getDate() === today.getDate()) return `${Math.floor(diff / 3_600_000)}h`;
  const yesterday = new Date(current - 86_400_000);
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  if (diff < 6 * 86_400_000) return WEEKDAYS[d.getDay()] ?? "";
  return shortDate(d, d.getFullYear() !== today.getFullYear());
}

// The panel is written in English; its list dates are too. Written out rather than asked of Intl: the first
// Intl.DateTimeFormat a page makes costs 100-200 ms (the browser loads its locale data), a third of the panel's
// first render of a list (bench/panel.mjs). Hover titles and clock times still use Intl, when shown.
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "12 Mar", or "12 Mar 2023" with the year. */
function shortDate(d: Date, withYear: boolean): string {
  const dayMonth = `${d.getDate()} ${MONTHS[d.getMonth()] ?? ""}`;
  return withYear ? `${dayMonth} ${d.getFullYear()}` : dayMonth;
}

/** The browser's formatters, each made once (`toLocaleString` and its kin make a new one on every call). */
const FORMATS = {
  clock: { hour: "2-digit", minute: "2-digit" },
  // What Date's toLocaleString() writes: date and time, to the second.
  full: { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" },
} satisfies Record<string, Intl.DateTimeFormatOptions>;
const made = new Map<keyof typeof FORMATS, Intl.DateTimeFormat>();

function formatter(kind: keyof typeof FORMATS): Intl.DateTimeFormat {
  let f = made.get(kind);
  if (!f) made.set(kind, (f = new Intl.DateTimeFormat(undefined, FORMATS[kind])));
  return f;
}

export function clockTime(at: number): string {
  return formatter("clock").format(at);
}

export function fullTime(at: number): string {
  return formatter("full").format(at);
}

export const STATUS_LABEL: Record<ConversationStatus, string> = {
  unassigned: "Waiting",
  assigned: "Assigned",
  idle: "Idle",
};

/** A client id for a new message; randomUUID needs a secure context. */
export function newClientId(): string {
  if (typeof crypto.randomUUID === "function" && isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Files are described by one formatter shared with the widget.
export { fileLabel, fileSize } from "../../../widget/src/lib/file-label";

/** "45 s", "3 min", "1 h 5 min", "2 d 4 h"; "—" when unknown. */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "★★★★☆" for 4 of 5 (rounded to whole stars). */
export function stars(rating: number, of = 5): string {
  const full = Math.max(0, Math.min(of, Math.round(rating)));
  return "★".repeat(full) + "☆".repeat(of - full);
}

/** 4.5 → "4.5", 4 → "4", 4.333 → "4.33". */
export function decimal(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", then a date. */
export function ago(at: number, current = now()): string {
  const diff = Math.max(0, current - at);
  if (diff < 60_000) return "just now";
  if (diff < 3_600_000) return `${Math.floor(diff / 60_000)} min ago`;
  if (diff < 86_400_000) return `${Math.floor(diff / 3_600_000)} h ago`;
  const days = Math.floor(diff / 86_400_000);
  if (days < 7) return days === 1 ? "yesterday" : `${days} days ago`;
  return `on ${shortDate(new Date(at), true)}`;
}

/**
 * The URL if it is a web address safe to put in an `href` (http or https),
 * else null: page URLs and referrers come from visitors' browsers, and a
 * `javascript:` link must never reach the operator's click.
 */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/**
 * The workspace address a mail was received at, without the conversation's
 * thread tag (`support+<16-character token>@…`, see worker/email.ts), which
 * only routes replies back and means nothing to an operator.
 */
export function mailboxAddress(address: string): string {
  return address.trim().replace(/^([^+@]+)\+[a-z0-9]{16}@/i, "$1@");
}
