/**
 * How a file is described in words, the same in the operator panel and the
 * visitor's widget: "PDF document · 77 B". Pure and dependency-free, so the
 * widget's bundle stays small; wire types come from worker/protocol.ts.
 */
import type { FileRef } from "../../../worker/protocol";

/** "512 B", "12 KB", "1.4 MB", "23 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  const mb = bytes / (1024 * 1024);
  return `${mb < 10 ? Math.round(mb * 10) / 10 : Math.round(mb)} MB`;
}

const TYPE_LABEL: Record<FileRef["type"], string> = {
  "image/png": "PNG image",
  "image/jpeg": "JPEG image",
  "image/gif": "GIF image",
  "image/webp": "WebP image",
  "application/pdf": "PDF document",
  "application/zip": "ZIP archive",
  "text/plain": "Text file",
  "message/rfc822": "Email message",
};

// Office documents are ZIP files inside: the server can only say "zip", the name says which.
const OFFICE_LABEL: Record<string, string> = {
  docx: "Word document",
  xlsx: "Excel workbook",
  pptx: "PowerPoint presentation",
  odt: "OpenDocument text",
  ods: "OpenDocument spreadsheet",
  odp: "OpenDocument presentation",
};

/** What kind of file this is, in words: "PDF document", "Word document". */
export function fileKind(file: Pick<FileRef, "name" | "type">): string {
  if (file.type === "application/zip") {
    const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase() ?? "";
    return OFFICE_LABEL[ext] ?? TYPE_LABEL[file.type];
  }
  return TYPE_LABEL[file.type] ?? "File";
}

/** The line under a file's name on its card: "PDF document · 77 B". */
export function fileLabel(file: Pick<FileRef, "name" | "type" | "size">): string {
  return `${fileKind(file)} · ${fileSize(file.size)}`;
}
