/**
 * Attachments: type detection by content, safe names, R2 storage and safe
 * serving.
 *
 * A file's type is decided from its first bytes against an allow-list, never
 * from its name or the Content-Type the client claims, so an HTML page named
 * `cat.png` is refused. Stored objects live under
 * `conversations/<conversationId>/<fileId>`; deleting a conversation deletes
 * that prefix. Files are served only through authorised routes with
 * `Content-Disposition`, `nosniff` and a sandboxing CSP: nothing a visitor
 * uploads can ever run as a page on our origin.
 */
import type { FileRef, FileType } from "../protocol";

/** Default upload limit; `MAX_UPLOAD_BYTES` in wrangler.toml overrides it. */
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

export function maxUploadBytes(env: { MAX_UPLOAD_BYTES?: string }): number {
  const n = Number(env.MAX_UPLOAD_BYTES);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_MAX_UPLOAD_BYTES;
}

function startsWith(bytes: Uint8Array, sig: number[], offset = 0): boolean {
  if (bytes.length < offset + sig.length) return false;
  return sig.every((b, i) => bytes[offset + i] === b);
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/**
 * Text is allowed when it is valid UTF-8 with no NUL bytes and does not look
 * like markup a browser would render (a leading `<`): a `.txt` that is really
 * HTML is refused rather than stored.
 */
function isPlainText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 64 * 1024);
  if (sample.includes(0)) return false;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(sample, {
      stream: bytes.length > sample.length,
    });
  } catch {
    return false;
  }
  return !/^\s*</.test(text.replace(/^\uFEFF/, ""));
}

/** The file's real type from its content, or null when it is not on the allow-list. */
export function sniffType(bytes: Uint8Array): FileType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  if (startsWith(bytes, ascii("%PDF-"))) return "application/pdf";
  // ZIP, which also covers .docx/.xlsx/.pptx/.odt. Served only as a download.
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06]))
    return "application/zip";
  if (isPlainText(bytes)) return "text/plain";
  return null;
}

export function isImage(type: FileType): boolean {
  return type.startsWith("image/");
}

const MAX_NAME = 120;

/**
 * A display name that is safe anywhere: the last path segment only, no
 * control or bidi-override characters, no leading dots, at most 120
 * characters (keeping the extension), Unicode-normalised. Never empty.
 */
export function safeFileName(raw: unknown): string {
  let name = typeof raw === "string" ? raw : "";
  name = name.normalize("NFC");
  name = name.split(/[\\/]/).pop() ?? "";
  // Control characters, and the bidi controls that make "exe.png" read as "png.exe".
  name = name.replace(/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "");
  name = name.replace(/\s+/g, " ").trim().replace(/^\.+/, "");
  if ([...name].length > MAX_NAME) {
    const chars = [...name];
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : "";
    name =
      chars
        .slice(0, MAX_NAME - [...ext].length)
        .join("")
        .trimEnd() + ext;
  }
  return name || "file";
}

export function fileKey(conversationId: string, fileId: string): string {
  return `conversations/${conversationId}/${fileId}`;
}

/** Deletes every attachment of a conversation from R2. Returns how many objects went. */
export async function deleteConversationFiles(bucket: R2Bucket, conversationId: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: `conversations/${conversationId}/`, cursor, limit: 1000 });
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) {
      await bucket.delete(keys);
      deleted += keys.length;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}

/** RFC 6266 / 5987 Content-Disposition with an ASCII fallback and the UTF-8 name. */
export function contentDisposition(kind: "inline" | "attachment", name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * The response for a stored file. Pictures may be shown inline; everything
 * else is always a download. A sandboxing CSP means even a file that slipped
 * through could not run script or load anything.
 */
export function fileResponse(object: R2ObjectBody, file: FileRef, inline: boolean): Response {
  const showInline = inline && file.image;
  const headers = new Headers({
    "Content-Type": showInline
      ? file.type
      : file.type === "text/plain"
        ? "text/plain; charset=utf-8"
        : "application/octet-stream",
    "Content-Disposition": contentDisposition(showInline ? "inline" : "attachment", file.name),
    "Content-Length": String(object.size),
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=3600",
    "Cross-Origin-Resource-Policy": "same-origin",
  });
  return new Response(object.body, { headers });
}
