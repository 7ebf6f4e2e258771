/**
 * A forged header From must not join the victim's thread (issue 16, Low 3).
 *
 * The attack: Alice writes to support and her conversation has a thread.
 * Someone else sends a mail with `From: alice@…`, from their own server (so
 * the envelope sender is theirs), naming Alice's Message-ID in In-Reply-To,
 * or writing to her thread's token address. It must land in a conversation
 * of its own, marked "sender not verified" with the reason, never in hers;
 * Alice's own mail still threads. What "verified" means is sender.ts's
 * header: the envelope aligns with From, and our receiving server's
 * Authentication-Results, when there are any, vouch for it.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { REFUSED } from "../worker/email/parse";
import { checkSender } from "../worker/email/sender";
import type { VisitorInfo } from "../worker/protocol";
import { fetchApp, signInAdmin } from "./helpers";
import { deliver, eventually, findBySender, freshSender, messagesOf, mid, SUPPORT } from "./mail-helpers";

const headers = (...lines: [string, string][]) => lines.map(([key, value]) => ({ key, value }));
const AR = "authentication-results";

describe("whether a sender is verified", () => {
  it("the envelope must align with From: same address, same domain or a subdomain of it, nothing else", () => {
    const from = "alice@example.org";
    for (const envelope of [
      "alice@example.org",
      "ALICE@Example.org",
      "<alice@example.org>",
      "bounces+123-abc@example.org",
      "bounce@mail.example.org",
    ]) {
      expect(checkSender([], envelope, from), envelope).toEqual({ verified: true });
    }
    for (const envelope of [
      "bounce@evil.example",
      "alice@example.org.evil.example",
      "alice@notexample.org",
      "alice@org",
      "",
      "<>",
    ]) {
      expect(checkSender([], envelope, from), envelope).toMatchObject({ verified: false });
    }
    expect(checkSender([], "bounce@evil.co.uk", "alice@victim.co.uk")).toEqual({
      verified: false,
      reason: "The envelope sender bounce@evil.co.uk does not match the From address alice@victim.co.uk.",
    });
  });

  it("our receiving server's results, when present, must vouch for the sender; they never vouch for a misaligned one", () => {
    const from = "alice@example.org";
    const check = (envelope: string, ...lines: [string, string][]) => checkSender(headers(...lines), envelope, from);
    const passes = [
      "mx.cloudflare.net; dmarc=pass header.from=example.org; spf=none",
      "mx.cloudflare.net; spf=pass (mx.cloudflare.net: domain of alice@example.org designates 192.0.2.1 as permitted sender) smtp.mailfrom=alice@example.org",
      "mx.cloudflare.net; dkim=pass header.d=example.org header.s=s1; spf=softfail smtp.mailfrom=alice@example.org; dmarc=none",
      'mx.cloudflare.net 1; spf=pass smtp.mailfrom="alice@example.org"',
    ];
    for (const value of passes) expect(check(from, [AR, value]), value).toEqual({ verified: true });
    expect(
      check(from, ["arc-authentication-results", "i=1; mx.cloudflare.net; dmarc=pass header.from=example.org"]),
    ).toEqual({
      verified: true,
    });
    // SPF passed for a bounce domain that aligns.
    expect(
      check("bounces+9@mail.example.org", [AR, "mx.cloudflare.net; spf=pass smtp.mailfrom=mail.example.org"]),
    ).toEqual({
      verified: true,
    });

    const fails = [
      "mx.cloudflare.net; spf=fail smtp.mailfrom=alice@example.org; dmarc=fail header.from=example.org",
      "mx.cloudflare.net; dmarc=pass header.from=other.example; spf=pass smtp.mailfrom=other.example",
      "mx.cloudflare.net; dkim=pass header.d=evil.example; spf=none",
      "mx.cloudflare.net; none",
    ];
    for (const value of fails) expect(check(from, [AR, value]), value).toMatchObject({ verified: false });
    expect(check(from, [AR, fails[0]!])).toEqual({
      verified: false,
      reason: "The receiving server could not confirm that alice@example.org sent this mail (spf=fail, dmarc=fail).",
    });

    // Only the topmost header is read, and only our server's: a pass the sender wrote below it counts for nothing.
    expect(check(from, [AR, fails[0]!], [AR, "mx.cloudflare.net; dmarc=pass header.from=example.org"])).toMatchObject({
      verified: false,
    });
    expect(check(from, [AR, "mx.evil.example; dmarc=fail header.from=example.org"])).toEqual({ verified: true });
    // A misaligned envelope stays unverified whatever the headers claim (they may be the sender's own).
    expect(
      check("bounce@evil.example", [AR, "mx.cloudflare.net; dmarc=pass header.from=example.org; spf=pass"]),
    ).toMatchObject({ verified: false });
  });
});

/** Alice writes to support; her conversation, the Message-ID of her mail and her sender address. */
async function aliceWrites(admin: string): Promise<{ alice: string; first: string; id: string }> {
  const alice = freshSender("alice");
  const first = mid();
  expect(
    await deliver(`From: Alice <${alice}>\nTo: ${SUPPORT}\nSubject: My order\nMessage-ID: ${first}\n\nWhere is it?\n`, {
      from: alice,
    }),
  ).toEqual([]);
  const [c] = await eventually(
    () => findBySender(admin, alice),
    (l) => l.length === 1,
  );
  expect(c, `a conversation for ${alice}`).toBeDefined();
  return { alice, first, id: c!.id };
}

/** The conversations of `address` once there are `count` of them. */
async function conversationsOf(admin: string, address: string, count: number) {
  const list = await eventually(
    () => findBySender(admin, address),
    (l) => l.length === count,
  );
  expect(list.length, `${address} has ${list.length} conversations`).toBe(count);
  return list;
}

describe("a forged From, through the real email() handler", () => {
  it("envelope bounce@evil.example + From alice + In-Reply-To of Alice's mail: a new conversation, marked; hers untouched", async () => {
    const admin = await signInAdmin();
    const { alice, first, id } = await aliceWrites(admin);

    const forged = `From: Alice <${alice}>\nTo: ${SUPPORT}\nSubject: Re: My order\nMessage-ID: ${mid()}\nIn-Reply-To: ${first}\nReferences: ${first}\n\nPlease send it to my new address instead.\n`;
    expect(await deliver(forged, { from: "bounce@evil.example" })).toEqual([]);

    expect((await messagesOf(admin, id)).map((m) => m.text)).toEqual(["Where is it?"]);
    const other = (await conversationsOf(admin, alice, 2)).find((c) => c.id !== id)!;
    const [m] = await messagesOf(admin, other.id);
    expect(m!.text).toBe("Please send it to my new address instead.");
    expect(m!.email!.unverified).toBe(
      `The envelope sender bounce@evil.example does not match the From address ${alice}.`,
    );
    const info = await fetchApp(`/api/conversations/${other.id}/visitor`, { headers: { Cookie: admin } });
    expect(((await info.json()) as { visitor: VisitorInfo }).visitor.mail).toMatchObject({ count: 1, unverified: 1 });

    // Alice's own reply still threads, by In-Reply-To, unmarked.
    expect(
      await deliver(
        `From: Alice <${alice}>\nTo: ${SUPPORT}\nSubject: Re: My order\nMessage-ID: ${mid()}\nIn-Reply-To: ${first}\n\nAny news?\n`,
        { from: alice },
      ),
    ).toEqual([]);
    const mine = await messagesOf(admin, id);
    expect(mine.map((x) => x.text)).toEqual(["Where is it?", "Any news?"]);
    expect(mine.every((x) => x.email!.unverified === undefined)).toBe(true);
  });

  it("a forged From at Alice's thread token address opens its own conversation; a bounce address of her domain threads", async () => {
    const admin = await signInAdmin();
    const { alice, first, id } = await aliceWrites(admin);
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName(env.WORKSPACE_ID));
    const token = await workspace.ensureEmailThread(id, "ignored", alice);
    const to = `support+${token}@microchat.example`;

    const forged = `From: ${alice}\nTo: ${to}\nSubject: Hi\nMessage-ID: ${mid()}\n\nThe token leaked.\n`;
    expect(await deliver(forged, { from: "mailer@evil.example", to })).toEqual([]);
    expect((await messagesOf(admin, id)).map((m) => m.text)).toEqual(["Where is it?"]);
    await conversationsOf(admin, alice, 2);

    // Her mailing provider's bounce address (same domain, VERP tag) is her: it threads.
    const bounce = `bounces+${Date.now()}-${alice.replace("@", "=")}@${alice.split("@")[1]}`;
    expect(
      await deliver(
        `From: ${alice}\nTo: ${to}\nSubject: Re: Hi\nMessage-ID: ${mid()}\nIn-Reply-To: ${first}\n\nSent via my provider\n`,
        {
          from: bounce,
          to,
        },
      ),
    ).toEqual([]);
    expect((await messagesOf(admin, id)).map((m) => m.text)).toEqual(["Where is it?", "Sent via my provider"]);
  });

  it("aligned but failed by our server's checks: its own conversation, with the results; a redelivery lands there once", async () => {
    const admin = await signInAdmin();
    const { alice, first, id } = await aliceWrites(admin);
    const messageId = mid();
    const forged = `Authentication-Results: mx.cloudflare.net; spf=fail smtp.mailfrom=${alice}; dmarc=fail header.from=example.org\nFrom: ${alice}\nTo: ${SUPPORT}\nSubject: Re: My order\nMessage-ID: ${messageId}\nIn-Reply-To: ${first}\n\nCancel it.\n`;
    expect(await deliver(forged, { from: alice })).toEqual([]);
    expect(await deliver(forged, { from: alice })).toEqual([]);

    expect((await messagesOf(admin, id)).map((m) => m.text)).toEqual(["Where is it?"]);
    const other = (await conversationsOf(admin, alice, 2)).find((c) => c.id !== id)!;
    const msgs = await messagesOf(admin, other.id);
    expect(msgs.map((m) => m.text)).toEqual(["Cancel it."]);
    expect(msgs[0]!.email!.unverified).toBe(
      `The receiving server could not confirm that ${alice} sent this mail (spf=fail, dmarc=fail).`,
    );
  });

  it("a forged auto-reply is refused with the reason; Alice can still answer in the marked conversation by its token", async () => {
    const admin = await signInAdmin();
    const { alice, first, id } = await aliceWrites(admin);
    const auto = `From: ${alice}\nTo: ${SUPPORT}\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: ${mid()}\nIn-Reply-To: ${first}\n\nAway\n`;
    expect(await deliver(auto, { from: "bounce@evil.example" })).toEqual([
      `${REFUSED.unverifiedAutomatic}. The envelope sender bounce@evil.example does not match the From address ${alice}.`,
    ]);
    expect((await messagesOf(admin, id)).map((m) => m.text)).toEqual(["Where is it?"]);

    // A forged mail opens a marked conversation; support answers there (to Alice's address), and
    // Alice, who really is Alice, replies to that answer: her verified mail joins it.
    await deliver(`From: ${alice}\nTo: ${SUPPORT}\nSubject: Refund\nMessage-ID: ${mid()}\n\nRefund me\n`, {
      from: "x@evil.example",
    });
    const other = (await conversationsOf(admin, alice, 2)).find((c) => c.id !== id)!;
    const workspace = env.WORKSPACE.get(env.WORKSPACE.idFromName(env.WORKSPACE_ID));
    const to = `support+${await workspace.ensureEmailThread(other.id, "ignored", alice)}@microchat.example`;
    expect(
      await deliver(
        `From: ${alice}\nTo: ${to}\nSubject: Re: Refund\nMessage-ID: ${mid()}\n\nI never asked for that.\n`,
        {
          from: alice,
          to,
        },
      ),
    ).toEqual([]);
    const msgs = await messagesOf(admin, other.id);
    expect(msgs.map((m) => [m.text, m.email!.unverified !== undefined])).toEqual([
      ["Refund me", true],
      ["I never asked for that.", false],
    ]);
  });
});
