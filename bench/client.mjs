// The benches' side of the wire: JSON posts, sockets with bounded waits, a
// visitor's conversation through the widget's own API, and Debian's Chromium.
import WebSocket from "ws";

/** A JSON POST from `base`'s own origin; its body (null if none) and the session cookie it set, if any. */
export async function post(base, path, body, headers = {}) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: base, ...headers },
    body: JSON.stringify(body),
  });
  return { body: await res.json().catch(() => null), cookie: res.headers.get("set-cookie")?.split(";")[0] };
}

/** An open WebSocket to `url`. */
export const open = (url, headers) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });

/** The next frame of `type` on `ws`; fails after 30 s, so no wait in a bench is unbounded. */
export const next = (ws, type) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => (ws.off("message", on), reject(new Error(`no ${type} frame in 30 s`))), 30_000);
    const on = (d) => {
      const f = JSON.parse(String(d));
      if (f.type === type) {
        clearTimeout(timer);
        ws.off("message", on);
        resolve(f);
      }
    };
    ws.on("message", on);
  });

/** A visitor's conversation with one message (`text`), as the widget makes it; its session. */
export async function visitorConversation(base, text) {
  const { body: session } = await post(base, "/api/visitor/session", { siteKey: "demo" });
  const { body: ticket } = await post(base, "/api/visitor/ticket", {}, { Authorization: `Bearer ${session.token}` });
  const wsBase = base.replace("http", "ws");
  const ws = await open(`${wsBase}/ws/visitor?ticket=${encodeURIComponent(ticket.ticket)}`, { Origin: base });
  ws.send(JSON.stringify({ type: "hello", lastSeq: 0 }));
  await next(ws, "welcome");
  ws.send(JSON.stringify({ type: "send", clientId: "first", text }));
  await next(ws, "ack");
  ws.close();
  return session;
}

/** Debian's Chromium through playwright-core (never a downloaded browser), launched as the browser tests launch it. */
export { launch as launchChromium } from "../test/e2e/browser.ts";
