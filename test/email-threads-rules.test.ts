/**
 * Email threading's rules (worker/workspace/email-threads.ts), called on the
 * module directly over a fresh workspace object's real storage: which
 * conversation a mail joins by its reply address or its references, that
 * only the thread's own sender can join it, and that an unverified sender
 * joins nothing. (`email.test.ts` drives the same rules with whole mails.)
 */
import { describe, expect, it } from "vitest";
import { EmailThreads, type InboundEmail } from "../worker/workspace/email-threads";
import { inFreshWorkspace } from "./helpers";

/** Runs `fn` with the module over a new workspace object's storage. */
function withThreads<T>(fn: (t: EmailThreads) => T): Promise<T> {
  return inFreshWorkspace("threads", (w) => fn(new EmailThreads(w)));
}

let n = 0;
/** A verified mail from alice@example.org, a new Message-ID each, with `over` on top. */
const mail = (over: Partial<InboundEmail> = {}): InboundEmail => ({
  sender: "alice@example.org",
  token: null,
  references: [],
  messageId: `<m${++n}@example.org>`,
  allowNew: true,
  verified: true,
  envelope: "alice@example.org",
  ...over,
});

describe("a verified sender's mail", () => {
  it("opens a thread, and finds it again by the reply address's token or by a reference, from that sender only", async () => {
    const seen = await withThreads((t) => {
      const first = mail();
      const opened = t.route(first)!;
      return {
        opened,
        byToken: t.route(mail({ token: opened.token })),
        byReference: t.route(mail({ references: ["<unknown@x>", first.messageId] })),
        tokenFromBob: t.route(mail({ sender: "bob@example.org", envelope: "bob@example.org", token: opened.token })),
        referenceFromBob: t.route(
          mail({ sender: "bob@example.org", envelope: "bob@example.org", references: [first.messageId] }),
        ),
      };
    });
    expect(seen.opened.token).toMatch(/^[A-Za-z0-9]+$/);
    expect(seen.byToken).toEqual(seen.opened);
    expect(seen.byReference).toEqual(seen.opened);
    expect(seen.tokenFromBob!.conversationId, "another sender with Alice's token").not.toBe(seen.opened.conversationId);
    expect(seen.referenceFromBob!.conversationId, "another sender citing Alice's mail").not.toBe(
      seen.opened.conversationId,
    );
  });

  it("the reply address's token wins over references, and the first reference that matches wins over later ones", async () => {
    const seen = await withThreads((t) => {
      const a = mail();
      const b = mail();
      const threadA = t.route(a)!;
      const threadB = t.route(b)!;
      return {
        threadA,
        threadB,
        tokenFirst: t.route(mail({ token: threadA.token, references: [b.messageId] })),
        firstReference: t.route(mail({ references: [b.messageId, a.messageId] })),
      };
    });
    expect(seen.threadA.conversationId).not.toBe(seen.threadB.conversationId);
    expect(seen.tokenFirst).toEqual(seen.threadA);
    expect(seen.firstReference).toEqual(seen.threadB);
  });

  it("an automatic mail (allowNew false) joins a thread it belongs to, and starts none", async () => {
    const seen = await withThreads((t) => {
      const opened = t.route(mail())!;
      return {
        joins: t.route(mail({ allowNew: false, token: opened.token })),
        alone: t.route(mail({ allowNew: false })),
        opened,
      };
    });
    expect(seen.joins).toEqual(seen.opened);
    expect(seen.alone).toBeNull();
  });

  it("each mail's Message-ID is recorded where it went first, so a reply to any mail of the thread finds it", async () => {
    const seen = await withThreads((t) => {
      const first = t.route(mail())!;
      const second = mail({ token: first.token });
      t.route(second);
      const other = t.route(mail())!;
      // The same Message-ID arriving again in another thread does not move it.
      t.recordMessageId(other.conversationId, second.messageId);
      return { first, reply: t.route(mail({ references: [second.messageId] })) };
    });
    expect(seen.reply).toEqual(seen.first);
  });
});

describe("an unverified sender's mail", () => {
  it("never joins by token or reference; only a redelivery of itself finds its conversation again", async () => {
    const seen = await withThreads((t) => {
      const known = mail();
      const opened = t.route(known)!;
      const forged = mail({
        verified: false,
        envelope: "Mallory@Evil.example",
        token: opened.token,
        references: [known.messageId],
      });
      const first = t.route(forged)!;
      return {
        opened,
        first,
        redelivered: t.route({ ...forged, envelope: "mallory@evil.example" }),
        otherEnvelope: t.route({ ...forged, envelope: "eve@evil.example" }),
        automatic: t.route(mail({ verified: false, allowNew: false })),
        // Its Message-ID is kept apart: a verified mail citing it does not land there.
        citing: t.route(mail({ references: [forged.messageId] })),
        // Its thread is still Alice's address: Alice herself joins it by its reply token.
        alice: t.route(mail({ token: first.token })),
      };
    });
    expect(seen.first.conversationId).not.toBe(seen.opened.conversationId);
    expect(seen.redelivered, "the same mail again, envelope in another case").toEqual(seen.first);
    expect(seen.otherEnvelope!.conversationId).not.toBe(seen.first.conversationId);
    expect(seen.automatic).toBeNull();
    expect(seen.citing!.conversationId).not.toBe(seen.first.conversationId);
    expect(seen.alice).toEqual(seen.first);
  });
});

describe("a conversation's thread", () => {
  it("is made once for a widget conversation, under the address in lower case, and forgotten with the conversation", async () => {
    const seen = await withThreads((t) => {
      const token = t.ensure("conv-1", "visitor-1", "Alice@Example.ORG");
      const again = t.ensure("conv-1", "visitor-1", "alice@example.org");
      const of = t.conversationsOf("alice@example.org");
      const routed = t.route(mail({ token }));
      t.forgetConversation("conv-1");
      return {
        token,
        again,
        of,
        routed,
        after: t.route(mail({ token })),
        ofAfter: t.conversationsOf("alice@example.org"),
      };
    });
    expect(seen.again).toBe(seen.token);
    expect(seen.of).toEqual(["conv-1"]);
    expect(seen.routed).toEqual({ conversationId: "conv-1", visitorId: "visitor-1", token: seen.token });
    expect(seen.after!.conversationId, "after deletion the old token leads nowhere").not.toBe("conv-1");
    expect(seen.ofAfter).not.toContain("conv-1");
  });
});
