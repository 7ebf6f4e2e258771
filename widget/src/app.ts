/**
 * The chat inside the widget's iframe (loaded only when the visitor opens it):
 * the wiring of its parts.
 *
 *   host.ts      the loader on the host page: origin, postMessage, the session it holds, open/minimised
 *   session.ts   the visitor session (from the loader) and the socket ticket
 *   messages.ts  the stored messages and history paging
 *   outbox.ts    messages typed but not acknowledged (localStorage)
 *   uploads.ts   the paper clip, drop and paste; blob URLs of stored files
 *   view.ts      the log on screen (bubbles.ts builds its items), banner, errors
 *   profile.ts   who can answer; the name/email card
 *   survey.ts    the rating card
 *   unread.ts    the launcher's badge: operator messages not yet seen in any tab
 *   lib/live-socket.ts  the socket the panel uses too: reconnect, ping, resume
 *
 * Here: the server's frames go to the parts they concern, and the composer
 * sends. Messages typed while offline wait in the outbox and are resent with
 * the same client id until acknowledged: the server stores each client id
 * once, so a resend never duplicates and a reload never loses a message.
 */
import type { ClientFrame, ConversationState, Message, ServerFrame, VisitorSession } from "../../worker/protocol";
import { $ } from "./dom";
import { listenToHost, toHost } from "./host";
import { liveSocket } from "./lib/live-socket";
import * as messages from "./messages";
import * as outbox from "./outbox";
import { bindProfile, offerProfile, operatorAnswered, setAvailable, setConversation } from "./profile";
import { currentSession, forgetSession, socketPath } from "./session";
import { bindSurvey, showSurvey } from "./survey";
import * as unread from "./unread";
import { bindUploads } from "./uploads";
import { pin, render, renderOlder, showBanner, showError, watchScroll } from "./view";

const input = $<HTMLTextAreaElement>("input");
const form = $<HTMLFormElement>("composer");

/** Draws the log and the cards around it. */
const refresh = () => render(offerProfile);

/** The session the socket connects with: its workspace names the chat, its conversation owns the outbox. */
function onSession(s: VisitorSession): void {
  $("title").textContent = s.workspaceName;
  outbox.own(s.conversationId);
}

const socket = liveSocket<ServerFrame, ClientFrame>({
  path: () => socketPath(onSession, startAfresh),
  // Resume: the server sends only what came after the newest message held.
  resume: () => ({ type: "hello", lastSeq: messages.lastSeq() }),
  onFrame,
  onStatus: showConnection,
});
const send = (frame: ClientFrame) => socket.send(frame);

/** The banner says why messages are not going out: offline, or reconnecting. */
function showConnection(): void {
  showBanner(
    socket.status() !== "reconnecting"
      ? null
      : navigator.onLine
        ? "Reconnecting…"
        : "You're offline. Messages will be sent when you're back.",
  );
}

/**
 * Forgets the visitor's conversation locally (the token was refused, or it
 * was deleted); the next connect takes the loader's newer session or makes a
 * new one. Messages typed and not yet stored go on to it: nothing is lost.
 */
function startAfresh(): void {
  forgetSession();
  messages.clear();
  unread.forget();
  refresh();
}

function setState(state: ConversationState, live: boolean): void {
  setConversation(state, live);
  showSurvey(state.survey, live);
  offerProfile();
}

/** Messages of the visitor's conversation that came from the server. */
function arrived(list: readonly Message[]): void {
  messages.add(list);
  const session = currentSession();
  if (session) unread.arrived(session.conversationId, list);
}

function onFrame(frame: ServerFrame): void {
  switch (frame.type) {
    case "welcome":
      setAvailable(frame.available);
      if (messages.lastSeq() === 0) messages.setPaging(frame.hasMore);
      arrived(frame.messages);
      setState(frame.state, false);
      for (const p of outbox.pending()) send(outbox.sendFrame(p));
      break;
    case "messages":
      arrived(frame.messages);
      break;
    case "message": {
      const m = frame.message;
      arrived([m]);
      if (m.author.role === "operator") {
        operatorAnswered();
        // For Microchat.on("message", fn) on the host page.
        toHost("message", { message: { text: m.text, author: m.author.name, at: m.at } });
      }
      break;
    }
    case "ack": {
      const sent = outbox.find(frame.clientId);
      const session = currentSession();
      if (sent && session) {
        messages.add([
          {
            seq: frame.seq,
            clientId: sent.clientId,
            kind: "text",
            author: { role: "visitor", id: session.visitorId, name: "" },
            text: sent.text,
            at: frame.at,
          },
        ]);
      }
      outbox.settle([frame.clientId]);
      break;
    }
    case "history":
      messages.setPaging(frame.hasMore);
      messages.add(frame.messages);
      renderOlder(offerProfile);
      return;
    case "state":
      setState(frame.state, true);
      return;
    case "availability":
      setAvailable(frame.available);
      offerProfile();
      return;
    case "error": {
      if (frame.code === "deleted") return startAfresh();
      const wait = frame.retryAfterMs ?? 1000;
      const p = outbox.find(frame.clientId);
      if (frame.code === "rate_limited" && frame.clientId) {
        // Too fast: the message stays in the outbox and goes again after the wait. Nothing is lost.
        if (p) setTimeout(() => send(outbox.sendFrame(p)), wait);
        setTimeout(() => showError(null), wait);
      } else if (frame.clientId) {
        // A refused message will not be accepted by resending: take it out of the outbox.
        outbox.settle([frame.clientId]);
      }
      showError(frame.message);
      break;
    }
  }
  refresh();
}

function submit(): void {
  const text = input.value.trim();
  if (!text) return;
  showError(null);
  const p = outbox.queue(text);
  input.value = "";
  autosize();
  pin();
  refresh();
  send(outbox.sendFrame(p));
}

function autosize(): void {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  submit();
});
input.addEventListener("keydown", (e) => {
  // Enter sends; Shift+Enter makes a new line; never while an IME is composing.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
input.addEventListener("input", autosize);
bindUploads(input, {
  changed: (started) => {
    if (started) pin();
    refresh();
  },
  stored: (m) => messages.add([m]),
  error: showError,
});
bindProfile(send);
bindSurvey(send, offerProfile);
watchScroll(() => {
  const first = messages.firstSeq();
  if (!messages.hasMore() || messages.loadingOlder() || !Number.isFinite(first)) return;
  messages.setPaging(true, true);
  send({ type: "history", beforeSeq: first });
  refresh();
});
const minimise = () => toHost("minimise");
$("minimise").addEventListener("click", minimise);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !e.isComposing) minimise();
});
listenToHost((open) => {
  unread.setOpen(open);
  if (open) input.focus();
});
// The socket drops at once when the browser goes offline; the banner follows the network both ways.
addEventListener("online", showConnection);
addEventListener("offline", showConnection);

refresh();
socket.start();
// The composer is disabled in frame.html until now, when every handler is
// bound: before, an Enter would have been a newline and nothing sent. Should
// text be in the box anyway (a browser restoring a draft), it is kept, and if
// it ends with an Enter that came before the handler, it is sent now.
for (const el of form.elements) (el as HTMLButtonElement).disabled = false;
if (input.value.endsWith("\n")) submit();
else autosize();
input.focus();
