/**
 * A visitor floods `profile` frames: the flood is limited with a clear error
 * frame, and what reaches the workspace and the panels stays a handful of
 * coalesced reports, not one per frame.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ConversationSummary } from "../worker/protocol";
import { fetchApp, newVisitorSession, panelSocket, say, signInAdmin, visitorSocket } from "./helpers";

const FRAMES = 5000;

/**
 * Counts the conversation's reports the workspace receives from now on. RPC
 * reaches only the class's own methods, so the count wraps the prototype's
 * (this file's workspace is its own).
 */
async function countReports(conversationId: string): Promise<() => Promise<number>> {
  const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));
  type Counted = {
    upsertConversation: (s: ConversationSummary, ...rest: unknown[]) => unknown;
    reportsSeen?: Map<string, number>;
  };
  await runInDurableObject(workspace, (object) => {
    const proto = Object.getPrototypeOf(object) as Counted;
    const seen = (proto.reportsSeen ??= new Map());
    seen.set(conversationId, 0);
    const real = proto.upsertConversation;
    if ((real as { counting?: true }).counting) return;
    const counting = function (this: unknown, summary: ConversationSummary, ...rest: unknown[]) {
      if (seen.has(summary.id)) seen.set(summary.id, seen.get(summary.id)! + 1);
      return real.call(this, summary, ...rest);
    };
    proto.upsertConversation = Object.assign(counting, { counting: true as const });
  });
  return () =>
    runInDurableObject(workspace, (object) => (object as unknown as Counted).reportsSeen?.get(conversationId) ?? -1);
}

describe("visitor profile flood", () => {
  it("5,000 profile frames are limited with a clear error, and the panels get a few coalesced updates", async () => {
    const admin = await signInAdmin();
    const panel = await panelSocket(admin);
    await panel.next("index");
    const session = await newVisitorSession();
    const id = session.conversationId;
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "hi, I need help");
    await panel.until("upsert", (f) => f.conversation.id === id && f.conversation.preview === "hi, I need help");
    const reports = await countReports(id);
    const panelBefore = panel.frames.length;
    const visitorBefore = v.frames.length;

    const started = Date.now();
    for (let i = 0; i < FRAMES; i++) v.send({ type: "profile", name: `Flood ${i}` });
    // Every frame is answered: a state (accepted: everyone in the conversation sees the name) or an error.
    const answered = () => v.frames.length - visitorBefore >= FRAMES;
    expect(await v.settled(answered, 60_000), `${v.frames.length - visitorBefore} of ${FRAMES} answered`).toBe(true);
    const elapsedS = Math.ceil((Date.now() - started) / 1000);
    const answers = v.frames.slice(visitorBefore);
    const states = answers.filter((f) => f.type === "state");
    const errors = answers.filter((f) => f.type === "error");
    expect(states.length + errors.length).toBe(FRAMES);
    // 5 at once, then 1 every 10 s.
    expect(states.length, `accepted in ${elapsedS} s`).toBeGreaterThanOrEqual(5);
    expect(states.length, `accepted in ${elapsedS} s`).toBeLessThanOrEqual(5 + Math.ceil(elapsedS / 10));
    for (const e of errors) {
      expect(e).toMatchObject({ type: "error", code: "rate_limited" });
      if (e.type === "error") {
        expect(e.message).toMatch(/^You're changing your name or email too fast; try again in \d+ s$/);
        expect(e.retryAfterMs).toBeGreaterThan(0);
      }
    }
    const last = states.at(-1)!;
    const name = last.type === "state" ? last.state.visitor.name : null;

    // The panel learns the last accepted name with a coalesced report.
    await panel.until("upsert", (f) => f.conversation.id === id && f.conversation.visitor.name === name, 10_000);
    const upserts = panel.frames
      .slice(panelBefore)
      .filter((f) => (f.type === "upsert" || f.type === "notify") && f.conversation.id === id);
    const reported = await reports();
    // The burst of 5 rides on at most 2 coalesced reports (one may go at once); a
    // change let through later by the refill (1 per 10 s, on a slow run) is one more.
    const bound = 2 + (states.length - 5);
    expect(reported, "reports the workspace received for the flood").toBeGreaterThanOrEqual(1);
    expect(reported, `reports for ${states.length} accepted profiles in ${elapsedS} s`).toBeLessThanOrEqual(bound);
    expect(upserts.length, `panel frames for ${states.length} accepted profiles`).toBeLessThanOrEqual(bound);

    // The workspace answers the panel's list as ever, with the name the visitor gave last.
    const res = await fetchApp("/api/conversations?view=all", { headers: { Cookie: admin } });
    expect(res.status).toBe(200);
    const list = (await res.json()) as { conversations: ConversationSummary[] };
    expect(list.conversations.find((c) => c.id === id)?.visitor.name).toBe(name);
    v.close();
    panel.close();
  });
});
