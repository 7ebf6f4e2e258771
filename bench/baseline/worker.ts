/**
 * Baselines for the benchmark, on the same runtime as Microchat:
 *  - `Relay` (/ws/<room>): the least a Worker + Durable Object can do to move
 *    a chat frame (Hibernation API, relay to the other sockets of the room,
 *    no storage, no validation);
 *  - `StoreRelay` (/store/<room>): the same, but each frame is first stored
 *    with one SQLite insert, as Microchat must store a message before it is
 *    delivered. The output gate holds the relay until the write is durable,
 *    as it holds Microchat's ack and broadcast: the fair physical limit;
 *  - `AckRelay` (/ack/<room>): the least that keeps Microchat's contract on
 *    the message path: a JSON frame, parsed; stored under the next sequence
 *    number with its client id (one insert); relayed as a JSON message frame
 *    and acknowledged to its sender with that number (an ack means "stored").
 *    No validation, no identity, no limits, no index: what is left between
 *    this row and Microchat's is Microchat's own work, not its contract.
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  ROOM: DurableObjectNamespace<Relay>;
  STORE_ROOM: DurableObjectNamespace<StoreRelay>;
  ACK_ROOM: DurableObjectNamespace<AckRelay>;
}

export class Relay extends DurableObject<Env> {
  override async fetch(): Promise<Response> {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    this.relay(ws, data);
  }

  protected relay(from: WebSocket, data: string | ArrayBuffer): void {
    for (const other of this.ctx.getWebSockets()) if (other !== from) other.send(data);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
  }
}

export class StoreRelay extends Relay {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, at INTEGER NOT NULL)",
    );
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const body = typeof data === "string" ? data : new TextDecoder().decode(data);
    this.ctx.storage.sql.exec("INSERT INTO messages (body, at) VALUES (?, ?)", body, Date.now());
    this.relay(ws, data);
  }
}

export class AckRelay extends Relay {
  private seq: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, client_id TEXT NOT NULL UNIQUE, text TEXT NOT NULL, at INTEGER NOT NULL)",
    );
    this.seq = sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM messages").one().s ?? 0;
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const frame = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data)) as {
      clientId: string;
      text: string;
    };
    const seq = ++this.seq;
    const at = Date.now();
    this.ctx.storage.sql.exec(
      "INSERT INTO messages (seq, client_id, text, at) VALUES (?, ?, ?, ?)",
      seq,
      frame.clientId,
      frame.text,
      at,
    );
    this.relay(
      ws,
      JSON.stringify({ type: "message", message: { seq, clientId: frame.clientId, text: frame.text, at } }),
    );
    ws.send(JSON.stringify({ type: "ack", clientId: frame.clientId, seq, at }));
  }
}

export default {
  fetch(request: Request, env: Env): Response | Promise<Response> {
    const [, kind, room = "default"] = new URL(request.url).pathname.split("/");
    if (request.headers.get("Upgrade") !== "websocket") return new Response("baseline ok");
    const namespace = kind === "store" ? env.STORE_ROOM : kind === "ack" ? env.ACK_ROOM : env.ROOM;
    return namespace.get(namespace.idFromName(room)).fetch(request);
  },
} satisfies ExportedHandler<Env>;
