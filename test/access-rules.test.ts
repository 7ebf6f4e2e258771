/**
 * Who may still act on a conversation (worker/conversation/access.ts), rule by
 * rule: the conversation's own check of a visitor token, how long a signed-out
 * token family is remembered, a socket whose grant ran out, and how often an
 * operator's sign-in is asked of the workspace again. The object's methods are
 * called directly, as the Worker calls them; what the runtime holds (a
 * socket's attachment, the last session check) is moved with
 * `runInDurableObject` where a test needs time to pass.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { VISITOR_TOKEN_TTL_MS } from "../worker/lib/visitor";
import {
  ageSessionWord,
  conversationObject,
  failingBinding,
  join,
  newOperator,
  operatorSocket,
  say,
  signInAdmin,
  type TestSocket,
  visitorWithMessage,
} from "./helpers";
import { eventually } from "./mail-helpers";
import type { ServerFrame } from "../worker/protocol";
import type { ConversationContext } from "../worker/conversation/context";
import { identityOf, setIdentity } from "../worker/conversation/sockets";

const WORKSPACE = "demo";
const workspace = () => env.WORKSPACE.get(env.WORKSPACE.idFromName(WORKSPACE));

/** A conversation with one visitor message; its id, its visitor's id and the visitor's open socket. */
async function started() {
  const { session, v, welcome } = await visitorWithMessage();
  return { id: session.conversationId, visitorId: welcome.state.visitor.id, v };
}

/**
 * Rewrites the grant of every socket of conversation `id` under `tag`: its attachment and the instance's copy of it
 * (sockets.ts), as a grant that ran out or ended elsewhere reads.
 */
function setGrantUntil(id: string, tag: string, until: (now: number) => number): Promise<number> {
  return runInDurableObject(conversationObject(id), (object, state) => {
    const c = (object as unknown as { c: ConversationContext }).c;
    let n = 0;
    for (const ws of state.getWebSockets(tag)) {
      const who = identityOf(c, ws);
      if (!who?.grant) continue;
      setIdentity(c, ws, { ...who, grant: { ...who.grant, until: until(Date.now()) } });
      n++;
    }
    return n;
  });
}

/** The confirmation times in the attachments of conversation `id`'s operator sockets. */
function checkedAt(id: string): Promise<number[]> {
  return runInDurableObject(conversationObject(id), (_o, state) =>
    state.getWebSockets("operator").map((ws) => (ws.deserializeAttachment() as { checkedAt?: number }).checkedAt ?? 0),
  );
}

type WorkspaceStub = ReturnType<typeof workspace>;

/**
 * Conversation `id`'s workspace binding (until the object restarts), with its `sessionActive` answered by `answer`
 * (which may call the real one); every other call goes to the real workspace.
 */
function workspaceWith(
  id: string,
  answer: (real: WorkspaceStub, ...args: Parameters<WorkspaceStub["sessionActive"]>) => Promise<boolean>,
): Promise<void> {
  return failingBinding(id, "WORKSPACE", {
    idFromName: (name: string) => env.WORKSPACE.idFromName(name),
    get: (wsId: DurableObjectId) => {
      const real = env.WORKSPACE.get(wsId);
      return {
        sessionActive: (...args: Parameters<WorkspaceStub["sessionActive"]>) => answer(real, ...args),
        upsertConversation: (...args: Parameters<WorkspaceStub["upsertConversation"]>) =>
          real.upsertConversation(...args),
        watchAvailability: (id: string) => real.watchAvailability(id),
        unwatchAvailability: (id: string) => real.unwatchAvailability(id),
      };
    },
  });
}

/**
 * Conversation `id`'s workspace, answering whether a session holds only once the test calls `answer()`; `asked()`
 * says how many times it was asked.
 */
async function heldAnswers(id: string) {
  let asked = 0;
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  await workspaceWith(id, async (real, ...args) => {
    asked++;
    const active = await real.sessionActive(...args);
    await answered;
    return active;
  });
  return { asked: () => asked, answer };
}

/** Waits (up to 10 s) for the server to close the socket; its code and reason. */
async function closed(s: TestSocket<ServerFrame>): Promise<[number | null, string]> {
  await s.closedByServer("the socket", 10_000);
  return [s.closeCode, s.closeReason];
}

describe("a visitor token at the conversation", () => {
  it("is refused for another conversation or workspace, another visitor, a deleted conversation, a signed-out family", async () => {
    const { id, visitorId, v } = await started();
    const stub = conversationObject(id);
    const family = `family-${crypto.randomUUID()}`;
    expect(await stub.admitVisitor(id, WORKSPACE, visitorId, family)).toEqual({ ok: true, value: null });
    const unknown = { ok: false, code: "not_found", message: "Unknown conversation" };
    expect(await stub.admitVisitor("another-id", WORKSPACE, visitorId, family)).toEqual(unknown);
    expect(await stub.admitVisitor(id, "another-workspace", visitorId, family)).toEqual(unknown);
    expect(await stub.admitVisitor(id, WORKSPACE, "another-visitor", family)).toEqual({
      ok: false,
      code: "forbidden",
      message: "Not your conversation",
    });
    expect(await stub.revokeVisitor("another-id", WORKSPACE, family)).toEqual(unknown);
    expect(await stub.revokeVisitor(id, WORKSPACE, family)).toEqual({ ok: true, value: null });
    expect(await stub.admitVisitor(id, WORKSPACE, visitorId, family)).toEqual({
      ok: false,
      code: "unauthorized",
      message: "This chat session was signed out; start a new one",
    });
    expect(await stub.admitVisitor(id, WORKSPACE, visitorId, `family-${crypto.randomUUID()}`)).toEqual({
      ok: true,
      value: null,
    });
    v.close();
    expect(await stub.erase(id, WORKSPACE)).toMatchObject({ ok: true });
    expect(await stub.admitVisitor(id, WORKSPACE, visitorId, family)).toEqual({
      ok: false,
      code: "deleted",
      message: "This conversation was deleted; start a new one",
    });
  });

  it("a first contact (nothing stored yet) is admitted unless its family was signed out", async () => {
    const id = `fresh-${crypto.randomUUID()}`;
    const stub = conversationObject(id);
    expect(await stub.admitVisitor(id, WORKSPACE, "v1", "family-a")).toEqual({ ok: true, value: null });
    expect(await stub.revokeVisitor(id, WORKSPACE, "family-a")).toEqual({ ok: true, value: null });
    expect(await stub.admitVisitor(id, WORKSPACE, "v1", "family-a")).toMatchObject({ ok: false, code: "unauthorized" });
  });
});

describe("a signed-out token family", () => {
  it("is remembered for a token's whole life, with the alarm set to forget it then, and forgotten after", async () => {
    const id = `revoked-${crypto.randomUUID()}`;
    const stub = conversationObject(id);
    const before = Date.now();
    await stub.revokeVisitor(id, WORKSPACE, "family-old");
    await stub.revokeVisitor(id, WORKSPACE, "family-new");
    const read = () =>
      runInDurableObject(stub, async (_o, state) => ({
        rows: state.storage.sql
          .exec<{ family: string; expires_at: number }>("SELECT family, expires_at FROM revoked_tokens ORDER BY family")
          .toArray(),
        alarm: await state.storage.getAlarm(),
      }));
    const first = await read();
    expect(first.rows.map((r) => r.family)).toEqual(["family-new", "family-old"]);
    for (const r of first.rows) {
      expect(r.expires_at).toBeGreaterThanOrEqual(before + VISITOR_TOKEN_TTL_MS);
      expect(r.expires_at).toBeLessThanOrEqual(Date.now() + VISITOR_TOKEN_TTL_MS);
    }
    expect(first.alarm, "the alarm is set for the first to expire").toBe(
      Math.min(...first.rows.map((r) => r.expires_at)),
    );

    // The old one's time is up: the alarm forgets it and is set again for the other.
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("UPDATE revoked_tokens SET expires_at = ? WHERE family = 'family-old'", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await read();
    expect(after.rows.map((r) => r.family)).toEqual(["family-new"]);
    expect(after.alarm).toBe(after.rows[0]!.expires_at);
  });
});

describe("the conversation's one alarm", () => {
  it("after a restart, a later deadline leaves a sooner alarm where it is", async () => {
    const id = `alarm-${crypto.randomUUID()}`;
    const stub = conversationObject(id);
    await stub.revokeVisitor(id, WORKSPACE, "family-1");
    const first = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    expect(first).not.toBeNull();
    // A new instance knows nothing of the alarm it set before, and reads it from storage.
    await evictDurableObject(stub);
    await stub.revokeVisitor(id, WORKSPACE, "family-2");
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).toBe(first);
  });
});

describe("a socket's identity (its attachment, and the instance's copy of it)", () => {
  it("is read from the attachment once, then from the copy; a write goes to both; a restarted instance reads it again", async () => {
    const { id, v } = await started();
    const first = await runInDurableObject(conversationObject(id), (object, state) => {
      const c = (object as unknown as { c: ConversationContext }).c;
      const ws = state.getWebSockets("visitor")[0]!;
      const a = identityOf(c, ws)!;
      const again = identityOf(c, ws);
      let mutated: string;
      try {
        (a as { name: string }).name = "changed in place";
        mutated = "no error";
      } catch (err) {
        mutated = (err as Error).name;
      }
      setIdentity(c, ws, { ...a, name: "Renamed" });
      return {
        same: again === a,
        frozen: Object.isFrozen(a) && Object.isFrozen(a.grant),
        mutated,
        copy: identityOf(c, ws)!.name,
        attachment: (ws.deserializeAttachment() as { name: string }).name,
      };
    });
    expect(first).toEqual({ same: true, frozen: true, mutated: "TypeError", copy: "Renamed", attachment: "Renamed" });
    await evictDurableObject(conversationObject(id));
    const woken = await runInDurableObject(conversationObject(id), (object, state) => {
      const c = (object as unknown as { c: ConversationContext }).c;
      const ws = state.getWebSockets("visitor")[0]!;
      const known = c.memory.identities.has(ws);
      const read = identityOf(c, ws)!;
      return { known, name: read.name, kept: c.memory.identities.get(ws) === read, again: identityOf(c, ws) === read };
    });
    expect(woken, "a restarted instance has no copy until it reads the attachment, then keeps what it read").toEqual({
      known: false,
      name: "Renamed",
      kept: true,
      again: true,
    });
    v.close();
  });
});

describe("a socket's grant", () => {
  it("once run out, its next frame closes the socket saying the session expired, and the frame does nothing", async () => {
    const { id, v } = await started();
    expect(await setGrantUntil(id, "visitor", (now) => now - 1)).toBe(1);
    v.send({ type: "send", clientId: "after-expiry", text: "too late" });
    expect(await closed(v)).toEqual([4001, "Session expired"]);
    const admin = await signInAdmin();
    const op = await operatorSocket(admin, id);
    const welcome = await op.next("welcome");
    expect(welcome.messages.map((m) => m.text)).toEqual(["hello"]);
    op.close();
  });

  it("ended (until 0: signed out elsewhere) closes the socket saying so", async () => {
    const { id, v } = await started();
    expect(await setGrantUntil(id, "visitor", () => 0)).toBe(1);
    v.send({ type: "history", beforeSeq: 1, limit: 1 });
    expect(await closed(v)).toEqual([4001, "Signed out"]);
  });
});

describe("an operator's sign-in", () => {
  /** An operator with a socket on a fresh conversation they joined, and a way to end their sessions silently. */
  async function operatorOnConversation() {
    const admin = await signInAdmin();
    const olga = await newOperator(admin, "Olga");
    const { id, v } = await started();
    await join(olga.cookie, id);
    const op = await operatorSocket(olga.cookie, id);
    await op.next("welcome");
    // Sessions ended in the workspace without the conversation being told (as when telling it failed).
    const endSilently = () =>
      runInDurableObject(workspace(), (_o, state) => {
        state.storage.sql.exec("DELETE FROM sessions WHERE operator_id = ?", olga.id);
      });
    /** Moves the socket's last session check `ms` into the past, and with it when the next look at it is due. */
    const age = (ms: number) =>
      runInDurableObject(conversationObject(id), (object, state) => {
        const memory = (object as unknown as { c: ConversationContext }).c.memory;
        let n = 0;
        for (const ws of state.getWebSockets("operator")) {
          const check = memory.sessionChecks.get(ws);
          if (check) ((check.at -= ms), n++);
        }
        if (memory.listenersDueAt !== null) memory.listenersDueAt -= ms;
        return n;
      });
    return { id, v, op, endSilently, age, olga };
  }

  it("acts on the workspace's last word for 2 minutes; past that a frame waits for a fresh word, and an ended session does nothing", async () => {
    const { v, op, endSilently, age } = await operatorOnConversation();
    await endSilently();
    // Confirmed less than a minute ago: the frame is handled without asking.
    op.send({ type: "history", beforeSeq: 1, limit: 1 });
    expect((await op.next("history")).messages).toEqual([]);
    expect(op.closed, "the socket after a frame within the word").toBe(false);
    // 2 minutes on: the frame waits for the workspace, the session is gone, the socket closes and the frame does nothing.
    expect(await age(120_000)).toBe(1);
    op.send({ type: "send", clientId: "olga-late", text: "still here?" });
    expect(await closed(op)).toEqual([4001, "Signed out"]);
    await say(v, "anyone?");
    const late = v.frames.filter((f) => f.type === "message" && f.message.clientId === "olga-late");
    expect(late, "the visitor, acked after Olga's socket closed, got nothing of her late reply").toEqual([]);
    expect(
      op.frames.filter((f) => f.type === "ack"),
      "acks Olga got",
    ).toEqual([]);
    v.close();
  });

  it("from 1 minute on, a frame is handled and the word renewed without holding it up; an ended session then closes the socket", async () => {
    const { v, op, endSilently, age } = await operatorOnConversation();
    await endSilently();
    expect(await age(60_000)).toBe(1);
    op.send({ type: "history", beforeSeq: 1, limit: 1 });
    expect((await op.next("history")).messages, "the frame, handled on the word it had").toEqual([]);
    expect(await closed(op)).toEqual([4001, "Signed out"]);
    v.close();
  });

  it("a word that holds is renewed: the socket acts on for another 2 minutes from the renewal", async () => {
    const { v, op, age, id } = await operatorOnConversation();
    expect(await age(90_000)).toBe(1);
    const before = Date.now();
    await say(op, "renewing");
    const at = await eventually(
      () => checkedAt(id),
      (all) => all.length === 1 && all[0]! >= before,
    );
    expect(at.length === 1 && at[0]! >= before, `the attachment's confirmation: ${at}, renewed after ${before}`).toBe(
      true,
    );
    await say(op, "still fine");
    expect(op.closed).toBe(false);
    v.close();
  });

  it("after a restart the last word is read from the socket's attachment: a frame within it is not held up", async () => {
    const { v, op, endSilently, id } = await operatorOnConversation();
    await endSilently();
    await evictDurableObject(conversationObject(id));
    op.send({ type: "history", beforeSeq: 1, limit: 1 });
    expect((await op.next("history")).messages, "a frame after the restart").toEqual([]);
    expect(op.closed, "the socket, its word 'held' still fresh").toBe(false);
    // Its word made old in the attachment itself (memory is empty after the restart): the next frame waits for a
    // fresh word and the ended session closes the socket.
    await evictDurableObject(conversationObject(id));
    expect(await ageSessionWord(id, 120_000)).toBe(1);
    op.send({ type: "send", clientId: "olga-after-restart", text: "hello?" });
    expect(await closed(op)).toEqual([4001, "Signed out"]);
    expect(
      op.frames.filter((f) => f.type === "ack"),
      "acks Olga got",
    ).toEqual([]);
    v.close();
  });

  it("a workspace that cannot be asked: a frame that must wait for it is refused, nothing is stored, the socket stays", async () => {
    const { v, op, age, id } = await operatorOnConversation();
    await workspaceWith(id, () => Promise.reject(new Error("workspace unavailable")));
    expect(await age(120_000)).toBe(1);
    op.send({ type: "send", clientId: "olga-unconfirmed", text: "can you see this?" });
    expect(await op.next("error")).toEqual({
      type: "error",
      code: "internal",
      message: "Could not confirm your sign-in; please try again",
      clientId: "olga-unconfirmed",
    });
    // Still unconfirmed: the next frame asks again, and is refused the same way.
    op.send({ type: "send", clientId: "olga-unconfirmed", text: "can you see this?" });
    const errors = () => op.frames.filter((f) => f.type === "error").length;
    expect(await op.settled(() => errors() === 2), `Olga's frames: ${JSON.stringify(op.frames)}`).toBe(true);
    expect(
      op.frames.map((f) => f.type),
      "Olga's frames",
    ).toEqual(["welcome", "error", "error"]);
    expect(op.closed, "her socket").toBe(false);
    await say(v, "still there?");
    expect(
      v.frames.filter((f) => f.type === "message" && f.message.clientId === "olga-unconfirmed"),
      "what the visitor got of it",
    ).toEqual([]);
    v.close();
    op.close();
  });

  it("a listener is asked about once per renewal, however many messages go out, and not at all while its word is fresh", async () => {
    const { v, op, age, id } = await operatorOnConversation();
    // The workspace's answers wait until the test lets them go, so every message below goes out while one is pending.
    const held = await heldAnswers(id);
    await say(v, "fresh 1");
    await say(v, "fresh 2");
    await op.until("message", (f) => f.message.text === "fresh 2");
    expect(held.asked(), "asked while the word is fresh").toBe(0);
    expect(await age(60_000)).toBe(1);
    await say(v, "old 1");
    await say(v, "old 2");
    await say(v, "old 3");
    await op.until("message", (f) => f.message.text === "old 3");
    expect(held.asked(), "asked for three messages to a listener whose word was old, the answer still on its way").toBe(
      1,
    );
    held.answer();
    const renewed = await eventually(
      () => checkedAt(id),
      (all) => all.length === 1 && Date.now() - all[0]! < 60_000,
    );
    expect(Date.now() - renewed[0]!, "the renewed word's age").toBeLessThan(60_000);
    await say(v, "renewed");
    await op.until("message", (f) => f.message.text === "renewed");
    expect(held.asked(), "after the renewal").toBe(1);
    v.close();
    op.close();
  });

  it("an operator's frames with the word old: one question, and none of them waits for its answer", async () => {
    const { v, op, age, id } = await operatorOnConversation();
    const held = await heldAnswers(id);
    expect(await age(60_000)).toBe(1);
    for (let i = 0; i < 3; i++) op.send({ type: "history", beforeSeq: 1, limit: 1 });
    expect(
      await op.settled(() => op.frames.filter((f) => f.type === "history").length === 3),
      `Olga's frames: ${JSON.stringify(op.frames.map((f) => f.type))}`,
    ).toBe(true);
    expect(held.asked(), "asked for three frames of hers, the answer still on its way").toBe(1);
    held.answer();
    v.close();
    op.close();
  });

  it("a message looks at the operator sockets only once one of them comes due; a socket opened since makes it look", async () => {
    const { v, op, id, olga } = await operatorOnConversation();
    const plan = () =>
      runInDurableObject(conversationObject(id), (object, state) => {
        const memory = (object as unknown as { c: ConversationContext }).c.memory;
        const checks = state.getWebSockets("operator").map((ws) => memory.sessionChecks.get(ws)?.at ?? null);
        return { due: memory.listenersDueAt, checks };
      });
    await say(v, "first");
    await op.until("message", (f) => f.message.text === "first");
    const after = await plan();
    expect(after.checks).toHaveLength(1);
    expect(after, "the soonest renewal, a minute after the last confirmation").toEqual({
      due: after.checks[0]! + 60_000,
      checks: after.checks,
    });
    const second = await operatorSocket(olga.cookie, id);
    await second.next("welcome");
    expect((await plan()).due, "after a second operator socket opened").toBeNull();
    await say(v, "second");
    await second.until("message", (f) => f.message.text === "second");
    const again = await plan();
    expect(again.checks).toHaveLength(2);
    expect(again.due).toBe(Math.min(...again.checks.map((at) => at! + 60_000)));
    second.close();
    op.close();
    v.close();
  });

  it("a listener whose renewal failed is looked at again by the next message: once the workspace answers, an ended session closes it", async () => {
    const { v, op, endSilently, age, id } = await operatorOnConversation();
    await workspaceWith(id, () => Promise.reject(new Error("workspace unavailable")));
    expect(await age(60_000)).toBe(1);
    await say(v, "first");
    await op.until("message", (f) => f.message.text === "first");
    // The renewal that message set off has failed: the socket's confirmation is as old as it was.
    const pending = () =>
      runInDurableObject(conversationObject(id), (object, state) => {
        const memory = (object as unknown as { c: ConversationContext }).c.memory;
        return state.getWebSockets("operator").map((ws) => (memory.sessionChecks.get(ws)?.pending ?? null) !== null);
      });
    const settled = await eventually(pending, (ps) => ps.every((p) => !p), 10_000);
    expect(settled, "a renewal still on its way, by operator socket").toEqual([false]);
    await workspaceWith(id, (real, ...args) => real.sessionActive(...args));
    await endSilently();
    await say(v, "second");
    expect(await closed(op)).toEqual([4001, "Signed out"]);
    v.close();
  });

  it("a socket that only listens is asked again, without holding anything up, when a message arrives for it after 1 minute", async () => {
    const { v, op, endSilently, age } = await operatorOnConversation();
    await endSilently();
    // Within a minute of its check, a listening operator still gets the visitor's messages.
    await say(v, "first");
    expect((await op.until("message", (f) => f.message.text === "first")).message.author.role).toBe("visitor");
    expect(await age(60_000)).toBe(1);
    await say(v, "second");
    // The message that found it old goes out first (the check is a call to the workspace), then the socket closes.
    expect(await closed(op)).toEqual([4001, "Signed out"]);
    v.close();
  });
});
