/**
 * The satisfaction survey, offered after the last operator leaves: five stars
 * (a radio group: arrow keys move the choice), an optional comment, Send or ✕.
 */
import type { ClientFrame, ConversationState } from "../../worker/protocol";
import { $ } from "./dom";

const form = $<HTMLFormElement>("survey");
const thanks = $("survey-thanks");
const comment = $<HTMLTextAreaElement>("survey-comment");
const stars = [...form.querySelectorAll<HTMLButtonElement>(".stars button")];
let surveyId: string | null = null;
let rating = 0;

function paintStars(): void {
  for (const b of stars) {
    const n = Number(b.dataset.rating);
    b.classList.toggle("on", n <= rating);
    b.setAttribute("aria-checked", String(n === rating));
    b.tabIndex = n === (rating || 1) ? 0 : -1;
  }
  $<HTMLButtonElement>("survey-submit").disabled = rating === 0;
  $("survey-more").hidden = rating === 0;
}

/** Shows the survey the server offers (a new one starts blank), or hides it when there is none. */
export function showSurvey(offer: ConversationState["survey"]): void {
  if (offer && offer.id !== surveyId) {
    surveyId = offer.id;
    rating = 0;
    comment.value = "";
    $("survey-title").textContent =
      offer.operators.length > 0 ? `How was your chat with ${offer.operators.join(", ")}?` : "How was your chat?";
    paintStars();
  }
  if (!offer) surveyId = null;
  form.hidden = !offer;
}

/** Binds the stars, Send and ✕; `closed` runs when the card goes away. */
export function bindSurvey(send: (frame: ClientFrame) => void, closed: () => void): void {
  for (const b of stars) {
    b.addEventListener("click", () => {
      rating = Number(b.dataset.rating);
      paintStars();
    });
    b.addEventListener("keydown", (e) => {
      // Arrow keys move the choice, as in any radio group.
      const delta =
        e.key === "ArrowRight" || e.key === "ArrowUp" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowDown" ? -1 : 0;
      if (!delta) return;
      e.preventDefault();
      rating = Math.min(5, Math.max(1, (rating || 1) + (rating ? delta : 0)));
      paintStars();
      stars[rating - 1]!.focus();
    });
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!surveyId || rating === 0) return;
    const frame: ClientFrame = { type: "rate", surveyId, rating };
    const text = comment.value.trim();
    if (text) frame.comment = text;
    send(frame);
    form.hidden = true;
    closed();
    thanks.hidden = false;
    setTimeout(() => (thanks.hidden = true), 4000);
  });
  $("survey-dismiss").addEventListener("click", () => {
    if (surveyId) send({ type: "dismissSurvey", surveyId });
    form.hidden = true;
    closed();
  });
}
