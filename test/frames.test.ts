import { describe, expect, it } from "vitest";
import { LIMITS } from "../worker/protocol";
import { newVisitorSession, say, visitorSocket } from "./helpers";

describe("bad frames", () => {
  it("malformed JSON, unknown types, bad fields and oversized frames get an error frame and the socket stays usable", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const stored = await say(v, "kept safe");

    v.sendRaw("{not json");
    expect((await v.next("error")).code).toBe("bad_json");
    v.send({ type: "launch-missiles" });
    expect((await v.next("error")).code).toBe("unknown_type");
    v.send({ type: "send", clientId: "x", text: 42 });
    expect((await v.next("error")).code).toBe("bad_frame");
    v.send({ type: "send", clientId: "bad id with spaces", text: "hi" });
    expect((await v.next("error")).code).toBe("bad_frame");
    v.send({ type: "send", clientId: "empty", text: "   " });
    expect((await v.next("error")).code).toBe("bad_frame");
    v.send({ type: "send", clientId: "long", text: "x".repeat(LIMITS.messageChars + 1) });
    const tooLong = await v.next("error");
    expect(tooLong).toMatchObject({ code: "too_large", clientId: "long" });
    v.sendRaw("x".repeat(LIMITS.frameBytes + 1));
    expect((await v.next("error")).code).toBe("too_large");
    v.sendRaw(new Uint8Array([1, 2, 3]).buffer);
    expect((await v.next("error")).code).toBe("bad_frame");
    v.send({ type: "read", seq: 1 });
    expect((await v.next("error")).code).toBe("forbidden");
    v.send({ type: "hello", lastSeq: -1 });
    expect((await v.next("error")).code).toBe("bad_frame");

    // Still usable, and nothing stored earlier was lost.
    const next = await say(v, "still here");
    expect(next.seq).toBe(stored.seq + 1);
    v.close();
    const again = await visitorSocket(session);
    const welcome = await again.next("welcome");
    expect(welcome.messages.map((m) => m.text)).toEqual(["kept safe", "still here"]);
    again.close();
  });

  it("stores hostile HTML as plain text, unchanged", async () => {
    const session = await newVisitorSession();
    const v = await visitorSocket(session);
    await v.next("welcome");
    const payload = `<img src=x onerror="window.__pwned=1"><script>alert(1)</script>`;
    await say(v, payload);
    v.close();
    const again = await visitorSocket(session);
    expect((await again.next("welcome")).messages[0]!.text).toBe(payload);
    again.close();
  });
});
