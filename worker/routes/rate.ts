/**
 * The survey link in the follow-up email to email-only visitors.
 *   GET  /rate/:token   a small page with the 1–5 choice and a comment box
 *   POST /rate/:token   records the rating (once), then thanks the visitor
 * The token is signed, names one conversation and one survey, expires after
 * 7 days, and is single-use: once the survey is answered (here or in the
 * widget) or dismissed, the link shows that instead of the form. The pages
 * contain no user text and no script.
 */
import { Hono } from "hono";
import type { AppEnv } from "../lib/http";
import { readSurveyToken } from "../lib/visitor";
import { LIMITS } from "../protocol";
import { conversationStub } from "../stubs";
import { surveyComment } from "../validate/text";

const page = (title: string, body: string, status = 200) =>
  new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#111827}
fieldset{border:0;padding:0;display:flex;gap:.5rem;flex-wrap:wrap}label{display:inline-flex;gap:.25rem;align-items:center;border:1px solid #d1d5db;border-radius:.5rem;padding:.5rem .75rem;cursor:pointer}
textarea{width:100%;min-height:5rem;margin:.75rem 0;font:inherit}button{background:#2563eb;color:#fff;border:0;border-radius:.5rem;padding:.6rem 1rem;font:inherit;cursor:pointer}</style></head><body>${body}</body></html>`,
    {
      status,
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy":
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
      },
    },
  );

const answered = () => page("Already answered", "<h1>This survey was already answered</h1><p>Thank you!</p>", 409);
const expired = () => page("Link expired", "<h1>This link has expired</h1><p>Thank you all the same.</p>", 404);

export const rate = new Hono<AppEnv>()
  .get("/:token", async (c) => {
    const who = await readSurveyToken(c.env, c.req.param("token"));
    if (!who) return expired();
    if (!(await conversationStub(c.env, who.conversationId).surveyOpen(who.surveyId))) return answered();
    const options = [1, 2, 3, 4, 5]
      .map(
        (n) =>
          `<label><input type="radio" name="rating" value="${n}" required> ${"★".repeat(n)}<span hidden>${n}</span></label>`,
      )
      .join("");
    return page(
      "How did we do?",
      `<h1>How did we do?</h1><form method="post"><fieldset><legend>Your rating, 1 to 5</legend>${options}</fieldset>
<label for="comment" hidden>Comment</label><textarea id="comment" name="comment" maxlength="${LIMITS.commentChars}" placeholder="Anything to add? (optional)"></textarea>
<button type="submit">Send rating</button></form>`,
    );
  })
  .post("/:token", async (c) => {
    const who = await readSurveyToken(c.env, c.req.param("token"));
    if (!who) return expired();
    const form = await c.req.formData().catch(() => null);
    const rating = Number(form?.get("rating"));
    if (!Number.isInteger(rating) || rating < 1 || rating > 5) {
      return page("Choose a rating", "<h1>Please choose a rating from 1 to 5</h1><p><a href=''>Back</a></p>", 400);
    }
    // The comment follows the one text rule, as over the widget's socket; the form's maxlength keeps people under the limit.
    const raw = form?.get("comment");
    const comment = surveyComment.safeParse(typeof raw === "string" ? raw : "");
    if (!comment.success) {
      return page("Comment too long", `<h1>${comment.error.issues[0]!.message}</h1><p><a href=''>Back</a></p>`, 400);
    }
    const result = await conversationStub(c.env, who.conversationId).rateFromEmail(
      who.surveyId,
      rating,
      comment.data || null,
    );
    if (!result.ok) return answered();
    return page("Thank you", "<h1>Thank you for your feedback!</h1>");
  });
