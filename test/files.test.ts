import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { deleteConversationFiles, safeFileName, sniffType } from "../worker/lib/files";
import type { UploadResponse, VisitorSession } from "../worker/protocol";
import { fetchApp, join, newVisitorSession, operatorSocket, say, signInAdmin, visitorSocket } from "./helpers";

// A real 1×1 PNG.
const PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);
const PDF = new TextEncoder().encode("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
const HTML = new TextEncoder().encode("<!doctype html><script>alert(document.cookie)</script>");
const SVG = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>');

function form(
  bytes: Uint8Array,
  name: string,
  clientId: string = crypto.randomUUID(),
  claimedType = "image/png",
): FormData {
  const f = new FormData();
  f.set("file", new File([bytes], name, { type: claimedType }));
  f.set("clientId", clientId);
  return f;
}

function visitorUpload(session: VisitorSession, body: FormData): Promise<Response> {
  return fetchApp("/api/visitor/files", {
    method: "POST",
    headers: { Authorization: `Bearer ${session.token}` },
    body,
  });
}

async function objects(conversationId: string): Promise<string[]> {
  const list = await env.ATTACHMENTS.list({ prefix: `conversations/${conversationId}/` });
  return list.objects.map((o) => o.key);
}

async function startedConversation() {
  const admin = await signInAdmin();
  const session = await newVisitorSession();
  const v = await visitorSocket(session);
  await v.next("welcome");
  await say(v, "hello");
  return { admin, session, v };
}

describe("files and pictures", () => {
  it("a visitor's picture is stored in R2, appears live for the operator, and both can fetch it", async () => {
    const { admin, session, v } = await startedConversation();
    await join(admin, session.conversationId);
    const op = await operatorSocket(admin, session.conversationId);
    await op.next("welcome");

    const res = await visitorUpload(session, form(PNG, "holiday.png", "pic-1"));
    expect(res.status).toBe(201);
    const body = (await res.json()) as UploadResponse;
    expect(body.ack).toMatchObject({ clientId: "pic-1", seq: body.message.seq });
    expect(body.message.file).toMatchObject({
      name: "holiday.png",
      size: PNG.byteLength,
      type: "image/png",
      image: true,
    });
    const seen = await op.until("message", (f) => f.message.clientId === "pic-1");
    expect(seen.message.kind).toBe("file");
    expect(await objects(session.conversationId)).toHaveLength(1);

    const fileId = body.message.file!.id;
    const asVisitor = await fetchApp(`/api/visitor/files/${fileId}?inline=1`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    expect(asVisitor.status).toBe(200);
    expect(asVisitor.headers.get("Content-Type")).toBe("image/png");
    expect(asVisitor.headers.get("Content-Disposition")).toMatch(/^inline; filename="holiday.png"/);
    expect(new Uint8Array(await asVisitor.arrayBuffer())).toEqual(PNG);

    const asOperator = await fetchApp(`/api/conversations/${session.conversationId}/files/${fileId}`, {
      headers: { Cookie: admin },
    });
    expect(asOperator.status).toBe(200);
    expect(asOperator.headers.get("Content-Disposition")).toMatch(/^attachment;/);
    expect(asOperator.headers.get("Content-Type")).toBe("application/octet-stream");
    expect(asOperator.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(asOperator.headers.get("Content-Security-Policy")).toContain("sandbox");
    await asOperator.arrayBuffer();
    v.close();
    op.close();
  });

  it("a joined operator sends a file; the visitor sees it live and downloads it", async () => {
    const { admin, session, v } = await startedConversation();
    await join(admin, session.conversationId);
    const res = await fetchApp(`/api/conversations/${session.conversationId}/files`, {
      method: "POST",
      headers: { Cookie: admin },
      body: form(PDF, "invoice.pdf", "pdf-1", "application/pdf"),
    });
    expect(res.status).toBe(201);
    const seen = await v.until("message", (f) => f.message.clientId === "pdf-1");
    expect(seen.message.file).toMatchObject({ name: "invoice.pdf", type: "application/pdf", image: false });
    const dl = await fetchApp(`/api/visitor/files/${seen.message.file!.id}?inline=1`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    // Not a picture: always a download, never inline.
    expect(dl.headers.get("Content-Disposition")).toMatch(/^attachment; filename="invoice.pdf"/);
    expect(new Uint8Array(await dl.arrayBuffer())).toEqual(PDF);
    v.close();
  });

  it("an operator who has not joined cannot send a file, and nothing is left in R2", async () => {
    const { admin, session, v } = await startedConversation();
    const res = await fetchApp(`/api/conversations/${session.conversationId}/files`, {
      method: "POST",
      headers: { Cookie: admin },
      body: form(PNG, "x.png"),
    });
    expect(res.status).toBe(403);
    expect(await objects(session.conversationId)).toEqual([]);
    v.close();
  });

  it("another visitor and anonymous requests cannot fetch a file", async () => {
    const { session, v } = await startedConversation();
    const up = (await (await visitorUpload(session, form(PNG, "private.png"))).json()) as UploadResponse;
    const fileId = up.message.file!.id;
    const mallory = await newVisitorSession();
    const asMallory = await fetchApp(`/api/visitor/files/${fileId}`, {
      headers: { Authorization: `Bearer ${mallory.token}` },
    });
    expect(asMallory.status).toBe(404);
    expect((await fetchApp(`/api/visitor/files/${fileId}`)).status).toBe(401);
    expect((await fetchApp(`/api/conversations/${session.conversationId}/files/${fileId}`)).status).toBe(401);
    expect((await visitorUpload({ ...mallory, token: "forged.token" }, form(PNG, "x.png"))).status).toBe(401);
    v.close();
  });

  it("oversized, empty, disguised and scriptable files are refused with a clear error and nothing stored", async () => {
    const { session, v } = await startedConversation();
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(PNG);
    const cases: [Uint8Array, string, number, RegExp][] = [
      [big, "huge.png", 413, /at most 10 MB/],
      [new Uint8Array(0), "empty.png", 400, /empty/],
      [HTML, "cat.png", 415, /not allowed/],
      [SVG, "logo.svg", 415, /not allowed/],
      [new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03]), "setup.exe", 415, /not allowed/],
    ];
    for (const [bytes, name, status, message] of cases) {
      const res = await visitorUpload(session, form(bytes, name));
      expect(res.status, name).toBe(status);
      expect(((await res.json()) as { error: { message: string } }).error.message, name).toMatch(message);
    }
    expect(await objects(session.conversationId)).toEqual([]);
    const notMultipart = await fetchApp("/api/visitor/files", {
      method: "POST",
      headers: { Authorization: `Bearer ${session.token}`, "Content-Type": "application/json" },
      body: "{}",
    });
    expect(notMultipart.status).toBe(415);
    const noClientId = new FormData();
    noClientId.set("file", new File([PNG], "a.png"));
    expect((await visitorUpload(session, noClientId)).status).toBe(400);
    // The conversation still works and lost nothing.
    const again = await visitorSocket(session);
    expect((await again.next("welcome")).messages.map((m) => m.text)).toEqual(["hello"]);
    v.close();
    again.close();
  });

  it("each malformed upload gets its own refusal, code and words, before anything is stored", async () => {
    const { session, v } = await startedConversation();
    const auth = { Authorization: `Bearer ${session.token}` };
    const refusal = async (res: Response) => ({
      status: res.status,
      ...((await res.json()) as { error: { code: string; message: string } }).error,
    });
    const raw = (headers: Record<string, string>, body: BodyInit) =>
      fetchApp("/api/visitor/files", { method: "POST", headers: { ...auth, ...headers }, body });
    // No declared length (a streamed body): refused before a byte is read.
    const streamed = new ReadableStream({
      start(c) {
        c.enqueue(PNG);
        c.close();
      },
    });
    expect(await refusal(await raw({ "Content-Type": "multipart/form-data; boundary=x" }, streamed))).toMatchObject({
      status: 411,
      code: "length_required",
      message: "Uploads need a Content-Length",
    });
    // A declared length over the limit: refused from the header alone.
    const declared = await raw(
      { "Content-Type": "multipart/form-data; boundary=x", "Content-Length": String(11 * 1024 * 1024) },
      "--x--",
    );
    expect(await refusal(declared)).toMatchObject({
      status: 413,
      code: "too_large",
      message: "Files can be at most 10 MB",
    });
    // Multipart in name only.
    expect(
      await refusal(await raw({ "Content-Type": "multipart/form-data; boundary=x" }, "not multipart at all")),
    ).toMatchObject({
      status: 400,
      code: "bad_multipart",
      message: "The upload could not be read",
    });
    // The file field missing, or a text where the file should be.
    const noFile = new FormData();
    noFile.set("clientId", crypto.randomUUID());
    const textFile = new FormData();
    textFile.set("clientId", crypto.randomUUID());
    textFile.set("file", "just text");
    for (const body of [noFile, textFile]) {
      expect(await refusal(await visitorUpload(session, body))).toMatchObject({
        status: 400,
        code: "bad_request",
        message: "Attach a file in the `file` field",
      });
    }
    // A clientId that is not one.
    expect(await refusal(await visitorUpload(session, form(PNG, "a.png", "x".repeat(65))))).toMatchObject({
      status: 400,
      code: "bad_request",
      message: "clientId is required",
    });
    // A visitor cannot send on the Email channel.
    const email = form(PNG, "a.png");
    email.set("channel", "email");
    expect(await refusal(await visitorUpload(session, email))).toMatchObject({
      status: 403,
      code: "forbidden",
      message: "Only operators send files by email",
    });
    expect(await objects(session.conversationId)).toEqual([]);
    v.close();
  });

  it("strange file names get safe stored names", async () => {
    const { session, v } = await startedConversation();
    const names: [string, string][] = [
      ["../../etc/passwd.txt", "passwd.txt"],
      ["C:\\Users\\me\\notes.txt", "notes.txt"],
      [`${"a".repeat(300)}.txt`, `${"a".repeat(116)}.txt`],
      ["résumé 📄.txt", "résumé 📄.txt"],
      ["\u202Etxt.exe", "txt.exe"],
      ["...", "file"],
    ];
    for (const [raw, expected] of names) {
      const res = await visitorUpload(
        session,
        form(new TextEncoder().encode("plain text"), raw, undefined, "text/plain"),
      );
      expect(res.status, raw).toBe(201);
      const body = (await res.json()) as UploadResponse;
      expect(body.message.file!.name, raw).toBe(expected);
      const dl = await fetchApp(`/api/visitor/files/${body.message.file!.id}`, {
        headers: { Authorization: `Bearer ${session.token}` },
      });
      expect(dl.headers.get("Content-Disposition"), raw).toContain(`filename*=UTF-8''${encodeURIComponent(expected)}`);
      expect(dl.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
      await dl.arrayBuffer();
    }
    v.close();
  });

  it("a resent upload is stored once and acknowledged with the same sequence number", async () => {
    const { session, v } = await startedConversation();
    const first = (await (await visitorUpload(session, form(PNG, "a.png", "same-upload"))).json()) as UploadResponse;
    const res = await visitorUpload(session, form(PNG, "a.png", "same-upload"));
    expect(res.status).toBe(200);
    const again = (await res.json()) as UploadResponse;
    expect(again.ack.seq).toBe(first.ack.seq);
    expect(await objects(session.conversationId)).toHaveLength(1);
    v.close();
  });

  it("deleting a conversation's attachments removes every object under it, and only those", async () => {
    const a = await startedConversation();
    const b = await startedConversation();
    for (let i = 0; i < 3; i++) await visitorUpload(a.session, form(PNG, `${i}.png`));
    await visitorUpload(b.session, form(PNG, "keep.png"));
    expect(await deleteConversationFiles(env.ATTACHMENTS, a.session.conversationId)).toBe(3);
    expect(await objects(a.session.conversationId)).toEqual([]);
    expect(await objects(b.session.conversationId)).toHaveLength(1);
    a.v.close();
    b.v.close();
  });

  it("detects types by content and cleans names (unit)", () => {
    expect(sniffType(PNG)).toBe("image/png");
    expect(sniffType(PDF)).toBe("application/pdf");
    expect(sniffType(HTML)).toBeNull();
    expect(sniffType(new TextEncoder().encode("\uFEFF  <html>"))).toBeNull();
    expect(sniffType(new Uint8Array([0xff, 0xfe, 0x00]))).toBeNull();
    expect(safeFileName(undefined)).toBe("file");
    expect(safeFileName("a\u0000b\nc.txt")).toBe("abc.txt");
  });
});
