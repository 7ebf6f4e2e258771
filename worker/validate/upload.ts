/**
 * An upload request (`multipart/form-data` with `file`, `clientId` and an
 * optional `channel`), checked before a byte is stored: declared size, media
 * type, fields, the file's real type from its content (never its name or the
 * type the client claims), and for the email channel the size a mail can carry.
 */
import type { Context } from "hono";
import { refuse } from "../errors";
import { isImage, safeFileName, sniffType } from "../lib/files";
import { LIMITS, type Channel, type FileType, type Role } from "../protocol";
import { clientId as clientIdSchema } from "./text";

/** Room for the multipart envelope around the file itself. */
const MULTIPART_OVERHEAD = 16 * 1024;

/** A checked upload, ready to store. */
export interface Upload {
  clientId: string;
  channel: Channel;
  name: string;
  type: FileType;
  image: boolean;
  bytes: Uint8Array;
}

function megabytes(n: number): string {
  return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
}

/** Reads and checks an upload of at most `maxBytes` from `role` (only operators send files by email). */
export async function readUpload(c: Context, maxBytes: number, role: Role): Promise<Upload> {
  const length = c.req.header("Content-Length");
  if (length === undefined) refuse("length_required", "Uploads need a Content-Length");
  if (Number(length) > maxBytes + MULTIPART_OVERHEAD)
    refuse("too_large", `Files can be at most ${megabytes(maxBytes)}`);
  if (!(c.req.header("Content-Type") ?? "").toLowerCase().startsWith("multipart/form-data")) {
    refuse("unsupported_media_type", "Send the file as multipart/form-data");
  }
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    refuse("bad_multipart", "The upload could not be read");
  }
  const file = form.get("file");
  const clientId = form.get("clientId");
  const channel = form.get("channel") === "email" ? "email" : "chat";
  if (channel === "email" && role !== "operator") refuse("forbidden", "Only operators send files by email");
  if (!clientIdSchema.safeParse(clientId).success) refuse("bad_request", "clientId is required");
  if (file === null || typeof file === "string") refuse("bad_request", "Attach a file in the `file` field");
  if (file.size === 0) refuse("empty_file", "The file is empty");
  if (file.size > maxBytes) refuse("too_large", `Files can be at most ${megabytes(maxBytes)}`);

  // Base64 grows a file by a third; the whole email must stay under Cloudflare's 5 MiB.
  if (channel === "email" && file.size > LIMITS.emailFileBytes) {
    refuse(
      "too_large_for_email",
      "Too large to send by email: an email can be at most 5 MB with its attachment (about 3.6 MB of file). Send it on the chat channel instead.",
    );
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const type = sniffType(bytes);
  if (!type) {
    refuse(
      "file_type_not_allowed",
      "This kind of file is not allowed. Send a picture (PNG, JPEG, GIF, WebP), a PDF, a ZIP or Office document, or plain text.",
    );
  }
  return { clientId: clientId as string, channel, name: safeFileName(file.name), type, image: isImage(type), bytes };
}
