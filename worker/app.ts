/**
 * The Hono application: mounts one route module per resource and turns
 * every error into JSON `{ error: { code, message } }` (`errors.onError`).
 * Routes parse and authorise, then call `services/`; none imports another.
 */
import { Hono } from "hono";
import { onError } from "./errors";
import { notFoundOrNotAllowed, refuseCrossSite, type AppEnv } from "./lib/http";
import { audit } from "./routes/audit";
import { auth } from "./routes/auth";
import { conversations } from "./routes/conversations";
import { erasure } from "./routes/erasure";
import { operators } from "./routes/operators";
import { rate } from "./routes/rate";
import { reports } from "./routes/reports";
import { v1 } from "./routes/v1";
import { settings } from "./routes/settings";
import { sockets } from "./routes/sockets";
import { visitor } from "./routes/visitor";

export const app = new Hono<AppEnv>()
  .get("/healthz", (c) => c.json({ ok: true, service: "microchat", time: new Date().toISOString() }))
  .use("/api/*", refuseCrossSite)
  .use("/api/*", async (c, next) => {
    await next();
    c.res.headers.set("X-Content-Type-Options", "nosniff");
    if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
  })
  .route("/api", auth)
  .route("/api/operators", operators)
  .route("/api/settings", settings)
  .route("/api/erasure", erasure)
  .route("/api/audit", audit)
  .route("/api/reports", reports)
  .route("/api/v1", v1)
  .route("/rate", rate)
  .route("/api/conversations", conversations)
  .route("/api/visitor", visitor)
  .route("/ws", sockets);

app.notFound(notFoundOrNotAllowed(() => app.routes));

app.onError(onError);
