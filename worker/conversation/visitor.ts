/**
 * The visitor (upper right of the conversation window): name and email as
 * they, the site or an operator gave them; where and with what they came
 * (IP, browser, location); the pages they viewed.
 */
import type { ClientInfo } from "../lib/client";
import { parseUserAgent } from "../lib/client";
import type { PageView, VisitorInfo } from "../protocol";
import type { ConversationContext } from "./context";
import { touchIndex } from "./index-report";
import { visitorSockets } from "./sockets";
import { broadcastState } from "./state";

/** Page views kept per conversation (the count of all stays exact). */
const PAGE_VIEWS_KEPT = 1000;

/**
 * Name and email the site passed with `Microchat.setUser`. Verified ones
 * (valid hash) replace what is there and are remembered as vouched for;
 * unverified ones are kept but marked so operators see they were not
 * vouched for. The badge shows only while what is shown is what the site
 * vouched for (state.ts): a visitor who edits a verified name or email
 * keeps what they typed, without the badge.
 */
export function setSiteIdentity(
  c: ConversationContext,
  input: { name: string | null; email: string | null; verified: boolean },
): void {
  const meta = c.meta;
  if (!input.verified && meta.identityVerified === true) return; // never downgrade a verified identity
  if (input.name) meta.visitorName = input.name;
  if (input.email) meta.visitorEmail = input.email;
  if (input.verified) {
    if (input.name) meta.verifiedName = input.name;
    if (input.email) meta.verifiedEmail = input.email;
  }
  meta.identityVerified = input.verified;
  broadcastState(c);
  touchIndex(c, true);
}

/**
 * The visitor's own name and email, from the widget (never vouched for: see
 * `setSiteIdentity`). The panels' lists hear
 * of it with the coalesced reports (at most one per window, as previews),
 * not at once: a visitor could otherwise make every panel redraw per frame.
 */
export function setProfile(c: ConversationContext, name: string | undefined, email: string | undefined): void {
  if (name !== undefined) c.meta.visitorName = name;
  if (email !== undefined) c.meta.visitorEmail = email;
  broadcastState(c);
  touchIndex(c, false);
}

/** Operators correct the visitor's name or email (null clears it). */
export function correctVisitor(c: ConversationContext, input: { name?: string | null; email?: string | null }): void {
  if (input.name !== undefined) c.meta.visitorName = input.name;
  if (input.email !== undefined) c.meta.visitorEmail = input.email;
  broadcastState(c);
  touchIndex(c, true);
}

/** Remembers where and with what the visitor last came (IP, User-Agent, cf location). */
export function noteClient(c: ConversationContext, info: ClientInfo): void {
  const meta = c.meta;
  if (info.ip) meta.ip = info.ip;
  if (info.userAgent) meta.userAgent = info.userAgent;
  if (info.geo && (info.geo.country || info.geo.city)) meta.geo = info.geo;
  meta.lastSeen = Date.now();
}

/**
 * Page views from the widget loader (beacons, batched). Each view has a
 * client id, so the later report of its time on page updates it in place.
 */
export function recordPageViews(
  c: ConversationContext,
  /** Each with the loader's id for it, so its time on page can follow later. */
  views: (PageView & { id: string })[],
  referrer: string | null,
  info: ClientInfo,
): void {
  c.transaction(() => {
    for (const v of views) {
      // Time on page for a view older than every kept one, while all PAGE_VIEWS_KEPT are kept, is for a view
      // dropped (and counted) already, left open in another tab: it is not stored, or counted, again.
      c.sql.exec(
        `INSERT INTO page_views (id, url, title, at, ms)
         SELECT ?1, ?2, ?3, ?4, ?5
         WHERE ?5 IS NULL OR (SELECT COUNT(*) FROM page_views) < ?6 OR ?4 >= (SELECT MIN(at) FROM page_views)
         ON CONFLICT(id) DO UPDATE SET ms = COALESCE(excluded.ms, ms), title = excluded.title`,
        v.id,
        v.url,
        v.title,
        v.at,
        v.ms,
        PAGE_VIEWS_KEPT,
      );
    }
    if (referrer && c.meta.referrer === null) c.meta.referrer = referrer;
    // Keep the newest views; the count below stays exact.
    const total = c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM page_views").one().n;
    if (total > PAGE_VIEWS_KEPT) {
      c.meta.pageViewsDropped += total - PAGE_VIEWS_KEPT;
      c.sql.exec(
        "DELETE FROM page_views WHERE id IN (SELECT id FROM page_views ORDER BY at ASC LIMIT ?)",
        total - PAGE_VIEWS_KEPT,
      );
    }
    noteClient(c, info);
  });
}

/** Everything known about the visitor, for the panel. */
export function visitorInfo(c: ConversationContext): VisitorInfo {
  const meta = c.meta;
  const agent = parseUserAgent(meta.userAgent);
  const stored = c.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM page_views").one().n;
  const items = c.sql
    .exec<{ url: string; title: string; at: number; ms: number | null }>(
      "SELECT url, title, at, ms FROM page_views ORDER BY at DESC LIMIT 50",
    )
    .toArray()
    .map((r) => ({ url: r.url, title: r.title, at: r.at, ms: r.ms }));
  // No row at all when the visitor never wrote by mail (so every figure of a row is a number).
  const mail = c.sql
    .exec<{ n: number; first: number; last: number; unverified: number }>(
      `SELECT COUNT(*) AS n, MIN(at) AS first, MAX(at) AS last,
         SUM(json_extract(email, '$.unverified') IS NOT NULL) AS unverified
       FROM messages WHERE channel = 'email' AND author_role = 'visitor' HAVING COUNT(*) > 0`,
    )
    .toArray()[0];
  const mailTo = mail
    ? c.sql
        .exec<{ to: string | null }>(
          "SELECT json_extract(email, '$.to') AS \"to\" FROM messages WHERE channel = 'email' AND author_role = 'visitor' ORDER BY seq DESC LIMIT 1",
        )
        .one().to
    : null;
  return {
    id: meta.visitorId ?? "",
    name: meta.visitorName,
    email: meta.visitorEmail,
    online: visitorSockets(c).length > 0,
    lastSeen: meta.lastSeen,
    ip: meta.ip,
    browser: agent.browser,
    os: agent.os,
    device: agent.device,
    bot: agent.bot,
    location: meta.geo,
    referrer: meta.referrer,
    pages: { count: stored + meta.pageViewsDropped, items },
    // The widget's socket records IP and User-Agent, its loader page views: mail records none of them.
    web: stored > 0 || meta.ip !== null || meta.userAgent !== null,
    mail: mail
      ? { to: mailTo ?? "", count: mail.n, firstAt: mail.first, lastAt: mail.last, unverified: mail.unverified }
      : null,
  };
}
