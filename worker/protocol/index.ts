/**
 * Wire types shared by the Worker, the panel and the widget.
 *
 * Everything that crosses a socket or an HTTP response is described here, as
 * tagged unions, so the three parts cannot drift apart. The panel and widget
 * import it with `import type` only: it must not pull runtime code into their
 * bundles. The one runtime export, `LIMITS`, is plain data.
 *
 *   core     messages, files, conversations, LIMITS
 *   frames   what crosses the conversation socket and the panel socket
 *   http     bodies of the HTTP API
 */
export * from "./core";
export * from "./frames";
export * from "./http";
