/**
 * The message log of one open conversation: stored messages keyed by seq,
 * merged from every source (welcome, live broadcast, history pages, acks,
 * upload answers) without duplicates.
 *
 * Our own messages first live in the outbox under their `clientId` and move
 * into the log on `ack` or when the broadcast `message` with the same
 * clientId arrives, whichever is first.
 *
 * Email replies: the server answers the sender with an `ack` only (the
 * broadcast skips the sending socket), so the message built from the ack is
 * provisional: shown at once and replaced by the stored copy (envelope,
 * subject) when it comes. `delivery` frames then move it from "sending" to
 * "sent" or "failed"; one that arrives before its message waits for it.
 */
import { batch } from "solid-js";
import { reconcile, type SetStoreFunction } from "solid-js/store";
import type { Delivery, Message, ServerFrame } from "../../../worker/protocol";
import type { ConversationStoreState, PendingMessage } from "./conversation-state";

type Ack = Extract<ServerFrame, { type: "ack" }>;

export function createMessageLog(
  state: ConversationStoreState,
  setState: SetStoreFunction<ConversationStoreState>,
  me: { id: string; name: string },
) {
  /** Seqs of messages built locally from an ack; the server's copy replaces them. */
  const provisional = new Set<number>();
  /** Delivery states that arrived before their message did. */
  const earlyDelivery = new Map<number, Delivery>();

  /**
   * Add messages to the log, skipping seqs already held (except provisional
   * ones, which the server's copy replaces), and settle the outbox and uploads.
   */
  const merge = (incoming: Message[]) => {
    if (incoming.length === 0) return;
    const held = new Set(state.messages.map((m) => m.seq));
    const fresh = incoming
      .filter((m) => !held.has(m.seq))
      .map((m) => {
        const d = earlyDelivery.get(m.seq);
        if (!d) return m;
        earlyDelivery.delete(m.seq);
        return { ...m, delivery: d };
      });
    // Only a copy of a message already held replaces it: the provisional
    // message itself arrives here first and must stay provisional until then.
    const replacing = new Map(incoming.filter((m) => held.has(m.seq) && provisional.has(m.seq)).map((m) => [m.seq, m]));
    const ids = new Set(incoming.map((m) => m.clientId));
    batch(() => {
      if (fresh.length || replacing.size) {
        let next = [...state.messages, ...fresh];
        if (replacing.size) {
          next = next.map((m) => replacing.get(m.seq) ?? m);
          for (const seq of replacing.keys()) provisional.delete(seq);
        }
        const last = state.messages[state.messages.length - 1];
        if (last && fresh.some((m) => m.seq < last.seq)) next.sort((a, b) => a.seq - b.seq);
        setState("messages", reconcile(next, { key: "seq" }));
      }
      if (state.outbox.some((p) => ids.has(p.clientId))) {
        setState("outbox", (o) => o.filter((p) => !ids.has(p.clientId)));
      }
      if (state.uploads.some((u) => ids.has(u.clientId))) {
        setState("uploads", (list) => list.filter((u) => !ids.has(u.clientId)));
      }
    });
  };

  /**
   * What the server will put on an email reply, for the moment before its
   * stored copy arrives: "Re: " and the subject of the visitor's last mail.
   */
  const provisionalEnvelope = (): Message["email"] => {
    const lastMail = [...state.messages].reverse().find((m) => m.channel === "email" && m.author.role === "visitor");
    const subject = lastMail?.email?.subject.trim() ?? "";
    const to = state.conversation?.visitor.email ?? "";
    return {
      subject: !subject || /^re:/i.test(subject) ? subject : `Re: ${subject}`,
      from: { name: me.name, address: "" },
      to,
      messageId: "",
    };
  };

  return {
    merge,
    /** The first page after (re)connecting: a fresh log, or on a resume what was missed. */
    welcome(messages: Message[], hasMore: boolean) {
      if (state.messages.length > 0) return merge(messages);
      provisional.clear();
      setState(
        "messages",
        reconcile(
          [...messages].sort((a, b) => a.seq - b.seq),
          { key: "seq" },
        ),
      );
      setState("hasMore", hasMore);
      // Our own messages may already be in the page (ack lost in a drop).
      const ids = new Set(messages.map((m) => m.clientId));
      setState("outbox", (o) => o.filter((p) => !ids.has(p.clientId)));
    },
    /** The server stored a message of ours: it joins the log (provisional for email, see above). */
    acked(f: Ack, p: PendingMessage) {
      const stored: Message = {
        seq: f.seq,
        clientId: f.clientId,
        kind: "text",
        author: { role: "operator", id: me.id, name: me.name },
        text: p.text,
        at: f.at,
      };
      if (p.channel === "email") {
        stored.channel = "email";
        stored.email = provisionalEnvelope();
        stored.delivery = { state: "sending" };
        provisional.add(f.seq);
      }
      merge([stored]);
    },
    delivery(seq: number, delivery: Delivery) {
      const i = state.messages.findIndex((m) => m.seq === seq);
      if (i >= 0) setState("messages", i, "delivery", delivery);
      else earlyDelivery.set(seq, delivery);
    },
  };
}
