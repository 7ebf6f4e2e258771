/**
 * The satisfaction survey, offered after the last operator leaves: five stars
 * (a radio group: arrow keys move the choice), an optional comment, Send or ✕.
 *
 * A chosen star is not lost: ✕ after choosing one sends it (with the comment,
 * if any) rather than declining; the choice and comment being written are
 * kept across reloads; and an answer sent while the socket was down (or whose
 * frame was lost with it) is kept and sent again at the next welcome, for as
 * long as the server still offers that survey (once it has the answer, it
 * offers none).
 */
import type { ClientFrame, ConversationState } from "../../worker/protocol";
import { $ } from "./dom";
import { load, save, siteKey } from "./session";

const form = $<HTMLFormElement>("survey");
const thanks = $("survey-thanks");
const comment = $<HTMLTextAreaElement>("survey-comment");
const stars = [...form.querySelectorAll<HTMLButtonElement>(".stars button")];
/** The answer being written (`sent`: false) or sent and not yet seen stored (`sent`: true). */
type Answer = { surveyId: string; rating: number; comment: string; sent: boolean };
const ANSWER_KEY = `microchat:survey:${siteKey}`;
let surveyId: string | null = null;
let rating = 0;
let send: (frame: ClientFrame) => boolean = () => false;

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

/** Keeps the choice and comment being written, so a reload does not lose them. */
function keepDraft(): void {
  if (surveyId && rating > 0) save(ANSWER_KEY, { surveyId, rating, comment: comment.value, sent: false });
}

function rateFrame(answer: Answer): ClientFrame {
  const frame: ClientFrame = { type: "rate", surveyId: answer.surveyId, rating: answer.rating };
  const text = answer.comment.trim();
  if (text) frame.comment = text;
  return frame;
}

/**
 * Shows the survey the server offers (a new one starts blank, or as it was left), or hides it when there is none.
 * An answer sent earlier whose survey a welcome (`live` false) still offers did not arrive: it is sent again.
 */
export function showSurvey(offer: ConversationState["survey"], live: boolean): void {
  const kept = load<Answer>(ANSWER_KEY);
  if (kept && kept.surveyId !== offer?.id) save(ANSWER_KEY, null); // answered, or no longer asked
  if (offer && kept?.surveyId === offer.id && kept.sent) {
    if (!live) send(rateFrame(kept));
    form.hidden = true;
    return;
  }
  if (offer && offer.id !== surveyId) {
    surveyId = offer.id;
    const draft = kept?.surveyId === offer.id ? kept : null;
    rating = draft?.rating ?? 0;
    comment.value = draft?.comment ?? "";
    $("survey-title").textContent =
      offer.operators.length > 0 ? `How was your chat with ${offer.operators.join(", ")}?` : "How was your chat?";
    paintStars();
  }
  if (!offer) surveyId = null;
  form.hidden = !offer;
}

/** Binds the stars, Send and ✕; `closed` runs when the card goes away. */
export function bindSurvey(sendFrame: (frame: ClientFrame) => boolean, closed: () => void): void {
  send = sendFrame;
  for (const b of stars) {
    b.addEventListener("click", () => {
      rating = Number(b.dataset.rating);
      paintStars();
      keepDraft();
    });
    b.addEventListener("keydown", (e) => {
      // Arrow keys move the choice, as in any radio group.
      const delta =
        e.key === "ArrowRight" || e.key === "ArrowUp" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowDown" ? -1 : 0;
      if (!delta) return;
      e.preventDefault();
      rating = Math.min(5, Math.max(1, (rating || 1) + (rating ? delta : 0)));
      paintStars();
      keepDraft();
      stars[rating - 1]!.focus();
    });
  }
  comment.addEventListener("input", keepDraft);
  const answer = () => {
    const sent: Answer = { surveyId: surveyId!, rating, comment: comment.value, sent: true };
    save(ANSWER_KEY, sent);
    send(rateFrame(sent));
    form.hidden = true;
    closed();
    thanks.hidden = false;
    setTimeout(() => (thanks.hidden = true), 4000);
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (surveyId && rating > 0) answer();
  });
  $("survey-dismiss").addEventListener("click", () => {
    // A star already chosen is the visitor's answer: ✕ sends it rather than throwing it away.
    if (surveyId && rating > 0) return answer();
    if (surveyId) send({ type: "dismissSurvey", surveyId });
    form.hidden = true;
    closed();
  });
}
