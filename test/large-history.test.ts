import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newVisitorSession, say, visitorSocket } from "./helpers";

describe("large history", () => {
  it("a conversation with 100,000 messages opens with only the newest page, and pages back from there", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(session.conversationId));
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
         INSERT INTO messages (seq, client_id, kind, author_role, author_id, author_name, text, at)
         SELECT i, 'seed-' || i, 'text', 'visitor', ?, 'V', 'message ' || i, ? FROM n`,
        session.visitorId,
        Date.now(),
      );
    });
    // Written behind the object's back: evict it so it rereads storage, as after a restart.
    await evictDurableObject(stub);
    v.close();

    const fresh = await visitorSocket(session);
    const welcome = await fresh.next("welcome");
    expect(welcome.messages).toHaveLength(50);
    expect(welcome.messages[0]!.seq).toBe(99_951);
    expect(welcome.messages.at(-1)!.seq).toBe(100_000);
    expect(welcome.hasMore).toBe(true);
    expect(welcome.state.lastSeq).toBe(100_000);

    fresh.send({ type: "history", beforeSeq: 50_000, limit: 10 });
    const middle = await fresh.next("history");
    expect(middle.messages.map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 49_990 + i));

    // The next message continues the sequence without a gap.
    expect((await say(fresh, "message 100001")).seq).toBe(100_001);
    fresh.close();
  });
});
