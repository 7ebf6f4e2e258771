/**
 * Baseline for the benchmark: the least a Worker + Durable Object can do to
 * move a chat frame (Hibernation API, relay to the other sockets of the
 * room, no storage, no validation). Microchat's figures are compared to it.
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  ROOM: DurableObjectNamespace<Relay>;
}

export class Relay extends DurableObject<Env> {
  override async fetch(): Promise<Response> {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    for (const other of this.ctx.getWebSockets()) if (other !== ws) other.send(data);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
  }
}

export default {
  fetch(request: Request, env: Env): Response | Promise<Response> {
    const room = new URL(request.url).pathname.split("/")[2] ?? "default";
    if (request.headers.get("Upgrade") !== "websocket") return new Response("baseline ok");
    return env.ROOM.get(env.ROOM.idFromName(room)).fetch(request);
  },
} satisfies ExportedHandler<Env>;
