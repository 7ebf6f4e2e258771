/**
 * What the open conversation asks of its socket besides sending: older pages
 * (scrolling up), the stored copy of a provisional email reply, and reads.
 *
 * `history` requests are answered in the order they were sent on one socket,
 * so each answer pairs with the oldest request still waiting; when the
 * socket closes, those answers will never come (`reset`).
 */
import type { SetStoreFunction } from "solid-js/store";
import type { ClientFrame } from "../../../worker/protocol";
import { HISTORY_PAGE, type ConversationStoreState } from "./conversation-state";

export function createPaging(
  state: ConversationStoreState,
  setState: SetStoreFunction<ConversationStoreState>,
  send: (frame: ClientFrame) => boolean,
  /** Whether the server has welcomed this socket (requests may go out). */
  ready: () => boolean,
  joined: () => boolean,
) {
  const wants: ("older" | "refresh")[] = [];
  let lastReadSent = 0;

  return {
    loadOlder() {
      const first = state.messages[0];
      if (!ready() || !state.hasMore || state.loadingOlder || !first) return;
      if (send({ type: "history", beforeSeq: first.seq, limit: HISTORY_PAGE })) {
        wants.push("older");
        setState("loadingOlder", true);
      }
    },
    /** Asks for the stored copy of message `seq` (answered by a one-message history page). */
    refresh(seq: number) {
      if (send({ type: "history", beforeSeq: seq + 1, limit: 1 })) wants.push("refresh");
    },
    /** What the `history` page that just arrived was asked for. */
    answered: (): "older" | "refresh" => wants.shift() ?? "older",
    /** The socket closed: forget the requests it carried. */
    reset() {
      wants.length = 0;
      setState("loadingOlder", false);
    },
    markRead() {
      // Only an operator who joined reads on the team's behalf; peeking at an
      // unassigned conversation must not hide it from the others' unread counts.
      if (!ready() || !joined()) return;
      const top = state.messages[state.messages.length - 1]?.seq ?? 0;
      if (top <= lastReadSent) return;
      const unseen = state.messages.some((m) => m.seq > lastReadSent && m.author.role === "visitor");
      if (!unseen) {
        lastReadSent = top;
        return;
      }
      if (send({ type: "read", seq: top })) {
        lastReadSent = top;
        setState("readSeq", top);
      }
    },
  };
}
