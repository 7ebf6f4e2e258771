/**
 * Who can answer, said one consistent way: the header's subtitle, and when
 * nobody is online, one email prompt (or, once the email is known, one line
 * saying where the reply goes). Otherwise the name/email card is offered once
 * the visitor has written and is still anonymous.
 */
import type { ClientFrame, ConversationState } from "../../worker/protocol";
import { $ } from "./dom";
import { visitorWrote } from "./messages";
import { load, save, siteKey } from "./session";

const SKIP_KEY = `microchat:profile-skipped:${siteKey}`;
const card = $<HTMLFormElement>("profile");
const surveyCard = $<HTMLFormElement>("survey");
const input = $<HTMLTextAreaElement>("input");

/** Whether anyone can answer now: null until the server's first welcome says. */
let available: boolean | null = null;
/** The visitor gave a name or an email. */
let known = false;
let knownEmail: string | null = null;
let operators: ConversationState["operators"] = [];

/** The server's welcome says whether anyone is online (older servers do not: then someone is). */
export function setAvailable(now: boolean | undefined): void {
  available = now ?? true;
}

/** An operator wrote: someone is answering right now. */
export function operatorAnswered(): void {
  available = true;
}

/** The conversation's state; `live`: a change as it happens (not the welcome's snapshot). */
export function setConversation(state: ConversationState, live: boolean): void {
  // Availability is told at welcome; an operator joining now is evidently online.
  if (live && state.operators.some((o) => !operators.some((p) => p.id === o.id))) available = true;
  operators = state.operators;
  known = state.visitor.name !== null || state.visitor.email !== null;
  knownEmail = state.visitor.email;
}

/** Shows the subtitle, the card and the note for what is known now. */
export function offerProfile(): void {
  const skipped = load<boolean>(SKIP_KEY) === true;
  const away = available === false;
  $("sub").textContent =
    available === null
      ? "Connecting…"
      : away
        ? "No one is online right now"
        : operators.length > 0
          ? `You're chatting with ${operators.map((o) => o.name).join(", ")}`
          : "We usually reply in a few minutes";
  $("empty-text").textContent = away
    ? "Leave a message and we'll get back to you."
    : "Ask us anything. We're here to help.";
  // One card above the composer at a time: the survey first, then this.
  card.hidden = !surveyCard.hidden || skipped || (away ? knownEmail !== null : known || !visitorWrote());
  $("profile-text").textContent = away
    ? "Leave your email and we'll reply there."
    : "Leave your name and email so we can get back to you.";
  const note = $("away");
  note.hidden = !away || !card.hidden || (knownEmail === null && !skipped);
  note.textContent = knownEmail ? `We'll reply to ${knownEmail} by email.` : "We'll answer here when someone is back.";
  // A card that goes away under the keyboard's focus hands it to the message box.
  for (const c of [card, surveyCard]) {
    if (c.hidden && c.contains(document.activeElement)) input.focus();
  }
}

/** Binds the card: Save sends the profile, ✕ skips it for good on this site. */
export function bindProfile(send: (frame: ClientFrame) => void): void {
  card.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $<HTMLInputElement>("pname").value.trim();
    const email = $<HTMLInputElement>("pemail").value.trim();
    if (!name && !email) return;
    const frame: ClientFrame = { type: "profile" };
    if (name) frame.name = name;
    if (email) frame.email = email;
    send(frame);
  });
  $("pskip").addEventListener("click", () => {
    save(SKIP_KEY, true);
    offerProfile();
  });
}
