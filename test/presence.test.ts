import { describe, expect, it } from "vitest";
import {
  fetchApp,
  join,
  leave,
  newOperator,
  newVisitorSession,
  panelSocket,
  say,
  signInAdmin,
  visitorSocket,
} from "./helpers";

function setStatus(cookie: string, status: string) {
  return fetchApp("/api/operators/me/status", {
    method: "PUT",
    headers: { Cookie: cookie, "Content-Type": "application/json" },
    body: JSON.stringify({ status }),
  });
}

describe("presence and notifications", () => {
  it("a visitor message in Unassigned notifies every online operator, and no away operator", async () => {
    const admin = await signInAdmin();
    const bob = await newOperator(admin, "Bob");
    expect((await setStatus(bob.cookie, "away")).status).toBe(200);
    const panelA = await panelSocket(admin);
    const panelB = await panelSocket(bob.cookie);
    await panelA.next("index");
    const index = await panelB.next("index");
    expect(index.operators.find((o) => o.id === bob.id)?.status).toBe("away");

    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "anyone?");
    const note = await panelA.until("notify", (f) => f.conversation.id === session.conversationId);
    expect(note.reason).toBe("new");
    // Bob sees the list change but gets no notification.
    await panelB.until("upsert", (f) => f.conversation.id === session.conversationId);
    expect(panelB.frames.some((f) => f.type === "notify")).toBe(false);

    // Requeue after everyone left notifies again.
    await join(admin, session.conversationId);
    await leave(admin, session.conversationId);
    await say(v, "one more thing");
    const again = await panelA.until(
      "notify",
      (f) => f.conversation.id === session.conversationId && f.reason === "requeued",
    );
    expect(again.conversation.status).toBe("unassigned");
    expect(panelB.frames.some((f) => f.type === "notify")).toBe(false);
    await setStatus(bob.cookie, "online");
    v.close();
    panelA.close();
    panelB.close();
  });

  it("the widget learns whether anyone is online to answer", async () => {
    const admin = await signInAdmin();
    await setStatus(admin, "online");
    const session = await newVisitorSession();
    const nobody = await visitorSocket(session);
    expect((await nobody.next("welcome")).available).toBe(false);
    nobody.close();

    const panel = await panelSocket(admin);
    await panel.next("index");
    const someone = await visitorSocket(session);
    expect((await someone.next("welcome")).available).toBe(true);
    someone.close();

    await setStatus(admin, "away");
    const presence = await panel.until("presence", (f) => f.operators.some((o) => o.status === "away"));
    expect(presence.operators.find((o) => o.name === "Ada Admin")).toMatchObject({ online: true, status: "away" });
    const away = await visitorSocket(session);
    expect((await away.next("welcome")).available).toBe(false);
    away.close();
    await setStatus(admin, "online");
    expect((await setStatus(admin, "busy")).status).toBe(400);
    panel.close();
  });
});
