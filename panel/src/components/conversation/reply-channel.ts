/**
 * The reply channel of the open conversation: Email while the visitor is
 * away and has an address (the answer would otherwise wait unseen in a
 * closed widget), Chat otherwise; recomputed as the visitor comes and goes,
 * unless the operator picked one.
 */
import { createMemo, createSignal, type Accessor } from "solid-js";
import type { Channel, ConversationState } from "../../../../worker/protocol";

// The channel an operator picked by hand, per conversation; it outlives
// switching conversations (like drafts), not reloads.
const pickedChannel = new Map<string, Channel>();

export interface ReplyChannel {
  channel: Accessor<Channel>;
  pick(c: Channel): void;
  /** The visitor's address; without one, Email cannot be chosen. */
  email: Accessor<string | null>;
}

export function createReplyChannel(id: string, conversation: () => ConversationState | null): ReplyChannel {
  const email = () => conversation()?.visitor.email ?? null;
  const [picked, setPicked] = createSignal<Channel | undefined>(pickedChannel.get(id));
  const channel = createMemo<Channel>(() => {
    const c = conversation();
    const wanted = picked() ?? (c && !c.visitorOnline && c.visitor.email ? "email" : "chat");
    return wanted === "email" && !email() ? "chat" : wanted;
  });
  return {
    channel,
    email,
    pick(c) {
      pickedChannel.set(id, c);
      setPicked(c);
    },
  };
}
