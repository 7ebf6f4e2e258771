import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { join, newVisitorSession, operatorSocket, say, signInAdmin, visitorSocket } from "./helpers";

describe("hibernation", () => {
  it("an evicted conversation object keeps its sockets, identities and sequence", async () => {
    const admin = await signInAdmin();
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    await say(v, "before eviction");
    await join(admin, session.conversationId);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");

    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
    await evictDurableObject(stub);

    // Both sockets survive; identities come back from their attachments.
    const ack = await say(v, "after eviction");
    expect(ack.seq).toBe(3);
    const seen = await op.until("message", (f) => f.message.text === "after eviction");
    expect(seen.message.author).toMatchObject({ role: "visitor", id: session.visitorId });

    await evictDurableObject(stub);
    await say(op, "operator after second eviction");
    const back = await v.until("message", (f) => f.message.text === "operator after second eviction");
    expect(back.message.seq).toBe(4);
    expect(back.message.author.role).toBe("operator");
    v.close();
    op.close();
  });
});
