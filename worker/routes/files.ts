/**
 * Upload and download of attachments, shared by the operator routes
 * (`/api/conversations/:id/files`) and the visitor routes
 * (`/api/visitor/files`). Callers authorise first; these handlers only ever
 * touch the conversation they are given.
 */
import type { Context } from "hono";
import type { SocketIdentity } from "../conversation";
import { isId, randomId } from "../lib/crypto";
import { fileKey, fileResponse, isImage, maxUploadBytes, safeFileName, sniffType } from "../lib/files";
import { fail, limitByIp, unwrap, type AppEnv } from "../lib/http";
import { MAX_OUTBOUND_EMAIL_BYTES } from "../email";
import type { FileRef, UploadResponse } from "../protocol";
import { conversationStub } from "./conversations";

const CLIENT_ID = /^[A-Za-z0-9_:.-]{1,64}$/;
/** Room for the multipart envelope around the file itself. */
const MULTIPART_OVERHEAD = 16 * 1024;

function megabytes(n: number): string {
  return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
}

/** Stores an uploaded file in R2, then its message in the conversation; undoes the first if the second fails. */
export async function handleUpload(c: Context<AppEnv>, conversationId: string, who: SocketIdentity): Promise<Response> {
  await limitByIp(c, c.env.UPLOAD_LIMIT, "uploads");
  const max = maxUploadBytes(c.env);
  const length = c.req.header("Content-Length");
  if (length === undefined) fail(411, "length_required", "Uploads need a Content-Length");
  if (Number(length) > max + MULTIPART_OVERHEAD) fail(413, "too_large", `Files can be at most ${megabytes(max)}`);
  if (!(c.req.header("Content-Type") ?? "").toLowerCase().startsWith("multipart/form-data")) {
    fail(415, "unsupported_media_type", "Send the file as multipart/form-data");
  }
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    fail(400, "bad_multipart", "The upload could not be read");
  }
  const upload = form.get("file");
  const clientId = form.get("clientId");
  const channel = form.get("channel") === "email" ? "email" : "chat";
  if (channel === "email" && who.role !== "operator") fail(403, "forbidden", "Only operators send files by email");
  if (typeof clientId !== "string" || !CLIENT_ID.test(clientId)) fail(400, "bad_request", "clientId is required");
  if (upload === null || typeof upload === "string") fail(400, "bad_request", "Attach a file in the `file` field");
  if (upload.size === 0) fail(400, "empty_file", "The file is empty");
  if (upload.size > max) fail(413, "too_large", `Files can be at most ${megabytes(max)}`);

  // Base64 grows a file by a third; the whole email must stay under Cloudflare's 5 MiB.
  if (channel === "email" && Math.ceil(upload.size / 3) * 4 + 64 * 1024 > MAX_OUTBOUND_EMAIL_BYTES) {
    fail(
      413,
      "too_large_for_email",
      "Too large to send by email: an email can be at most 5 MB with its attachment (about 3.7 MB of file). Send it on the chat channel instead.",
    );
  }
  const bytes = new Uint8Array(await upload.arrayBuffer());
  const type = sniffType(bytes);
  if (!type) {
    fail(
      415,
      "file_type_not_allowed",
      "This kind of file is not allowed. Send a picture (PNG, JPEG, GIF, WebP), a PDF, a ZIP or Office document, or plain text.",
    );
  }
  const file: FileRef = {
    id: randomId(),
    name: safeFileName(upload.name),
    size: bytes.byteLength,
    type,
    image: isImage(type),
  };
  const key = fileKey(conversationId, file.id);
  const bucket = c.env.ATTACHMENTS;
  await bucket.put(key, bytes, {
    httpMetadata: { contentType: type },
    customMetadata: { name: file.name, conversationId, uploader: `${who.role}:${who.id}` },
  });

  let stored: { message: UploadResponse["message"]; fresh: boolean };
  try {
    const result = await conversationStub(c.env, conversationId).attachFile(
      conversationId,
      c.env.SITE_KEY,
      who,
      clientId,
      file,
      channel,
    );
    if (!result.ok) await bucket.delete(key);
    stored = unwrap(result);
  } catch (err) {
    await bucket.delete(key);
    throw err;
  }
  // A resend of an upload that was already stored: keep the first copy only.
  if (!stored.fresh) await bucket.delete(key);
  const body: UploadResponse = {
    ack: { clientId, seq: stored.message.seq, at: stored.message.at },
    message: stored.message,
  };
  return c.json(body, stored.fresh ? 201 : 200);
}

/** Serves one attachment of `conversationId` (already authorised). */
export async function serveFile(c: Context<AppEnv>, conversationId: string, fileId: string): Promise<Response> {
  if (!isId(fileId)) fail(404, "not_found", "No such file");
  const file = unwrap(await conversationStub(c.env, conversationId).getFile(conversationId, c.env.SITE_KEY, fileId));
  const object = await c.env.ATTACHMENTS.get(fileKey(conversationId, file.id));
  if (!object) fail(404, "not_found", "No such file");
  return fileResponse(object, file, c.req.query("inline") === "1");
}
