/**
 * Replies of this operator on their way: each waits in `outbox` ("sending")
 * until its ack or its broadcast moves it into the log (conversation-log.ts),
 * and is sent again with the same clientId after a reconnect, which the
 * server stores once. A refused one stays, "failed", for Retry or Discard.
 */
import type { SetStoreFunction } from "solid-js/store";
import type { Channel, ClientFrame } from "../../../worker/protocol";
import { newClientId } from "../lib/format";
import { MESSAGE_CHARS, type ConversationStoreState, type PendingMessage } from "./conversation-state";

/** `send` puts a frame on the socket (false when not connected); `ready` says whether sends may go out now. */
export function createOutbox(
  state: ConversationStoreState,
  setState: SetStoreFunction<ConversationStoreState>,
  send: (frame: ClientFrame) => boolean,
  ready: () => boolean,
) {
  const frame = (p: PendingMessage): ClientFrame =>
    p.channel === "email"
      ? { type: "send", clientId: p.clientId, text: p.text, channel: "email" }
      : { type: "send", clientId: p.clientId, text: p.text };

  return {
    /** Queues a reply; false when it is empty or too long (nothing is queued). */
    send(text: string, channel: Channel): boolean {
      if (!text.trim() || text.length > MESSAGE_CHARS) return false;
      const p: PendingMessage = {
        clientId: newClientId(),
        text,
        channel,
        at: Date.now(),
        status: "sending",
        error: null,
      };
      setState("outbox", state.outbox.length, p);
      if (ready()) send(frame(p));
      return true;
    },
    retry(clientId: string) {
      const p = state.outbox.find((x) => x.clientId === clientId);
      if (!p) return;
      setState("outbox", (x) => x.clientId === clientId, { status: "sending", error: null });
      if (ready()) send(frame(p));
    },
    discard(clientId: string) {
      setState("outbox", (o) => o.filter((p) => p.clientId !== clientId));
    },
    /** Sends every reply still waiting (after a welcome). */
    flush() {
      for (const p of state.outbox) {
        if (p.status !== "sending") continue;
        if (!send(frame(p))) break;
      }
    },
    /** The server refused the reply `clientId`; false when it is not one of ours. */
    refused(clientId: string, message: string): boolean {
      const i = state.outbox.findIndex((p) => p.clientId === clientId);
      if (i < 0) return false;
      setState("outbox", i, { status: "failed", error: message });
      return true;
    },
  };
}
