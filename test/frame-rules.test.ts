/**
 * The socket frame validators and the text rules (worker/validate/frames.ts,
 * text.ts) called directly, at their edges: what is not a frame, unknown
 * types (own keys only), the code a refusal carries and the clientId it
 * names, the panel's `more` frame and its defaults, a name cut at its limit
 * without splitting a surrogate pair, and the longest email address.
 * A chat message's quick check (`quickSend`) is held to the schema's answer
 * for every frame fast-check makes near the edges. test/frames.test.ts sends
 * the same frames over real sockets.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../worker/protocol";
import { checkClientFrame, quickSend, validateClientFrame, validatePanelFrame } from "../worker/validate/frames";
import { isEmail, passedName } from "../worker/validate/text";

const notAFrame = { ok: false, code: "bad_frame", message: "A frame is an object with a string `type`" };

describe("conversation socket frames", () => {
  it("what is not an object with a string type is refused as such", () => {
    for (const raw of [null, undefined, 1, "send", [], [{ type: "send" }], {}, { type: 1 }, { type: null }]) {
      expect(validateClientFrame(raw), JSON.stringify(raw) ?? "undefined").toEqual(notAFrame);
    }
  });

  it("an unknown type, inherited names included, is unknown", () => {
    for (const type of ["nope", "constructor", "__proto__", "toString", "hasOwnProperty", ""]) {
      expect(validateClientFrame({ type }), type).toEqual({
        ok: false,
        code: "unknown_type",
        message: "Unknown frame type",
      });
    }
  });

  it("a refused send names its clientId when it is readable; text too long is too_large, the rest bad_frame", () => {
    const long = "x".repeat(LIMITS.messageChars + 1);
    const tooLong = validateClientFrame({ type: "send", clientId: "c1", text: long });
    expect(tooLong).toMatchObject({ ok: false, code: "too_large", clientId: "c1" });
    expect(validateClientFrame({ type: "send", clientId: "c1", text: 5 })).toMatchObject({
      ok: false,
      code: "bad_frame",
      clientId: "c1",
    });
    const unnamed = validateClientFrame({ type: "send", clientId: "x".repeat(500), text: "hi" });
    expect(unnamed.ok).toBe(false);
    expect(unnamed).not.toHaveProperty("clientId");
    // Another frame type never names a clientId, even when it carries one.
    const hello = validateClientFrame({ type: "hello", lastSeq: -1, clientId: "c1" });
    expect(hello).toEqual({ ok: false, code: "bad_frame", message: "hello.lastSeq must be a non-negative integer" });
  });

  it("a profile needs a name or an email; a good frame comes back typed", () => {
    expect(validateClientFrame({ type: "profile" })).toEqual({
      ok: false,
      code: "bad_frame",
      message: "profile needs a name or an email",
    });
    expect(validateClientFrame({ type: "profile", name: "Ada" })).toEqual({
      ok: true,
      frame: { type: "profile", name: "Ada" },
    });
    expect(validateClientFrame({ type: "profile", email: "ada@example.org" })).toEqual({
      ok: true,
      frame: { type: "profile", email: "ada@example.org" },
    });
    expect(validateClientFrame({ type: "hello", lastSeq: 0 })).toEqual({
      ok: true,
      frame: { type: "hello", lastSeq: 0 },
    });
  });
});

describe("a chat message's quick check", () => {
  const ordinary = [
    { type: "send", clientId: "c1", text: "hello" },
    { type: "send", clientId: "v:1a2b-3c_4.5", text: "  two\r\nlines\u0007 ", channel: "chat" },
    {
      type: "send",
      clientId: "x".repeat(LIMITS.clientIdChars),
      text: "y".repeat(LIMITS.messageChars),
      channel: "email",
    },
    { type: "send", clientId: "c2", text: "<b>kept as text</b> \u202e🙂", extra: "dropped" },
  ];

  it("takes an ordinary message itself, with the schema's own output: text cleaned, no other keys", () => {
    for (const raw of ordinary) {
      const quick = quickSend(raw);
      expect(quick, JSON.stringify(raw)).not.toBeNull();
      expect({ ok: true, frame: quick }).toStrictEqual(checkClientFrame(raw));
      expect(validateClientFrame(raw)).toStrictEqual(checkClientFrame(raw));
    }
    expect(quickSend(ordinary[1]!)).toStrictEqual({
      type: "send",
      clientId: "v:1a2b-3c_4.5",
      text: "two\nlines",
      channel: "chat",
    });
    expect(quickSend(ordinary[3]!)).toStrictEqual({
      type: "send",
      clientId: "c2",
      text: "<b>kept as text</b> \u202e🙂",
    });
  });

  it("is a send's only: another type with a message's fields is that type's frame", () => {
    const fields = { clientId: "c1", text: "hi" };
    expect(validateClientFrame({ type: "hello", lastSeq: 0, ...fields })).toStrictEqual({
      ok: true,
      frame: { type: "hello", lastSeq: 0 },
    });
    for (const type of ["", "nope", "Send"]) {
      expect(validateClientFrame({ type, ...fields }), type).toEqual({
        ok: false,
        code: "unknown_type",
        message: "Unknown frame type",
      });
    }
  });

  it("leaves every doubtful message to the schema, which words the refusal", () => {
    const doubtful = [
      { type: "send", clientId: "c1", text: " \u0000\r\n " },
      { type: "send", clientId: "c1", text: "y".repeat(LIMITS.messageChars + 1) },
      { type: "send", clientId: "", text: "hi" },
      { type: "send", clientId: "x".repeat(LIMITS.clientIdChars + 1), text: "hi" },
      { type: "send", clientId: "c 1", text: "hi" },
      { type: "send", clientId: 1, text: "hi" },
      { type: "send", clientId: "c1", text: ["hi"] },
      { type: "send", clientId: "c1", text: "hi", channel: "sms" },
      { type: "send", clientId: "c1", text: "hi", channel: null },
      { type: "send", clientId: "c1", text: "hi", channel: undefined },
    ];
    for (const raw of doubtful) {
      expect(quickSend(raw), JSON.stringify(raw)).toBeNull();
      expect(validateClientFrame(raw)).toStrictEqual(checkClientFrame(raw));
    }
    expect(validateClientFrame(doubtful[0])).toEqual({
      ok: false,
      code: "bad_frame",
      message: "Message is empty",
      clientId: "c1",
    });
    expect(validateClientFrame(doubtful[1])).toMatchObject({ ok: false, code: "too_large", clientId: "c1" });
    // Never from JSON, but kept as the schema keeps it.
    expect(validateClientFrame(doubtful[9])).toStrictEqual({
      ok: true,
      frame: { type: "send", clientId: "c1", text: "hi", channel: undefined },
    });
  });

  it("answers exactly as the schema does, whatever the frame (fast-check)", () => {
    const idChar = fc.constantFrom(..."aZ09_:.- \u00e9/\n".split(""));
    const text = fc.oneof(
      fc.string({
        unit: fc.constantFrom(
          "a",
          " ",
          "\t",
          "\n",
          "\r",
          "\u0000",
          "\u001f",
          "\u007f",
          "\u0085",
          "\u00a0",
          "\u2028",
          "\ufeff",
          "\ud83d",
          "\ude42",
        ),
        maxLength: 40,
      }),
      fc.integer({ min: LIMITS.messageChars - 2, max: LIMITS.messageChars + 2 }).map((n) => " " + "z".repeat(n) + " "),
      fc.constantFrom(undefined, null, 7, ["a"], { a: 1 }),
    );
    const frame = fc.record(
      {
        type: fc.constant("send"),
        clientId: fc.oneof(
          fc.string({ unit: idChar, maxLength: LIMITS.clientIdChars + 2 }),
          fc.constantFrom(undefined, 5, null, ["c1"]),
        ),
        text,
        channel: fc.constantFrom(undefined, "chat", "email", "Chat", "", null, 1),
        extra: fc.constantFrom("x", 1, null),
      },
      { requiredKeys: ["type"] },
    );
    fc.assert(
      fc.property(frame, (raw) => {
        const quick = quickSend(raw);
        const schema = checkClientFrame(raw);
        expect(validateClientFrame(raw)).toStrictEqual(schema);
        if (quick !== null) expect({ ok: true, frame: quick }).toStrictEqual(schema);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("panel socket frames", () => {
  it("what is not an object with a type is refused; an unknown or non-string type is unknown", () => {
    for (const raw of [null, 7, "more", [], {}]) {
      expect(validatePanelFrame(raw), JSON.stringify(raw)).toEqual({
        ok: false,
        code: "bad_frame",
        message: "Frame needs a type",
      });
    }
    // An array whose text is a type's name is no type either.
    for (const type of [1, null, "less", "constructor", ["more"]]) {
      expect(validatePanelFrame({ type }), String(type)).toEqual({
        ok: false,
        code: "unknown_type",
        message: "Unknown frame type",
      });
    }
  });

  it("`more`: All by default, a malformed cursor or size ignored, a missing time refused", () => {
    expect(validatePanelFrame({ type: "more", beforeLastAt: 5 })).toEqual({
      ok: true,
      frame: { type: "more", view: "all", beforeLastAt: 5 },
    });
    expect(validatePanelFrame({ type: "more", view: null, beforeLastAt: 5, beforeId: 9, limit: "x" })).toEqual({
      ok: true,
      frame: { type: "more", view: "all", beforeLastAt: 5 },
    });
    expect(validatePanelFrame({ type: "more", view: "mine", beforeLastAt: 5, beforeId: "c", limit: 10 })).toEqual({
      ok: true,
      frame: { type: "more", view: "mine", beforeLastAt: 5, beforeId: "c", limit: 10 },
    });
    expect(validatePanelFrame({ type: "more" })).toEqual({
      ok: false,
      code: "bad_frame",
      message: "more.beforeLastAt must be a number",
    });
    expect(validatePanelFrame({ type: "more", view: "yours", beforeLastAt: 5 })).toMatchObject({
      ok: false,
      message: 'more.view must be "unassigned", "mine" or "all"',
    });
  });
});

describe("text rules", () => {
  it("a passed-on name is cut at the limit, never inside a surrogate pair, and trimmed", () => {
    const max = LIMITS.nameChars;
    expect(passedName("a".repeat(max))).toBe("a".repeat(max));
    expect(passedName("a".repeat(max + 5))).toBe("a".repeat(max));
    // A pair straddling the limit is left out whole.
    const straddling = `${"a".repeat(max - 1)}😀tail`;
    expect(passedName(straddling)).toBe("a".repeat(max - 1));
    // The first and the last high surrogate both count as one.
    expect(passedName(`${"a".repeat(max - 1)}\u{10000}tail`)).toBe("a".repeat(max - 1));
    expect(passedName(`${"a".repeat(max - 1)}\u{10fc00}tail`)).toBe("a".repeat(max - 1));
    // A pair that ends exactly at the limit is kept.
    const ending = `${"a".repeat(max - 2)}😀tail`;
    expect(passedName(ending)).toBe(`${"a".repeat(max - 2)}😀`);
    // Cut where a space was: no trailing space.
    expect(passedName(`${"a".repeat(max - 1)} more words`)).toBe("a".repeat(max - 1));
    expect(passedName(`  Ada \u0007 Lovelace `)).toBe("Ada Lovelace");
    expect(passedName(" \u0001 ")).toBeNull();
  });

  it("an email address is plausible and at most 254 characters", () => {
    const at254 = `${"a".repeat(254 - "@example.org".length)}@example.org`;
    expect(at254.length).toBe(LIMITS.emailChars);
    expect(isEmail(at254)).toBe(true);
    expect(isEmail(`a${at254}`)).toBe(false);
    for (const bad of ["a@b", "a b@c.org", "<a@b.org>", "a@@b.org", "@b.org", "a@.", "a@b.org,"]) {
      expect(isEmail(bad), bad).toBe(false);
    }
    expect(isEmail("a@b.org")).toBe(true);
  });
});
