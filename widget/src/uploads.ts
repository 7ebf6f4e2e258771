/**
 * Files and pictures (the paper clip, drag and drop, a pasted screenshot):
 * each file is uploaded over HTTP with a progress bar, and its message
 * appears once the server has stored it. Stored files are fetched with the
 * bearer token into blob URLs (never a token in a URL).
 */
import type { FileRef, Message, UploadResponse } from "../../worker/protocol";
import { $ } from "./dom";
import { currentSession, ensureSession } from "./session";

/** A file on its way to the server. */
export interface Upload {
  clientId: string;
  name: string;
  size: number;
  /** 0–1. */
  progress: number;
}

export interface UploadHooks {
  /** The list of uploads changed (`started`: a new one, the log should follow it). */
  changed(started?: boolean): void;
  /** The server stored the file's message. */
  stored(m: Message): void;
  error(text: string | null): void;
}

let uploads: Upload[] = [];
/** Object URLs of files already fetched, by file id. */
const blobs = new Map<string, Promise<string>>();

/** The uploads in flight, in the order chosen. */
export const inFlight = (): readonly Upload[] => uploads;

/** A blob URL of a stored file, fetched once with the visitor's token. */
export function fileUrl(file: FileRef): Promise<string> {
  let url = blobs.get(file.id);
  if (!url) {
    url = fetch(`/api/visitor/files/${encodeURIComponent(file.id)}?inline=1`, {
      headers: { Authorization: `Bearer ${currentSession()?.token ?? ""}` },
    }).then(async (res) => {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return URL.createObjectURL(await res.blob());
    });
    url.catch(() => blobs.delete(file.id));
    blobs.set(file.id, url);
  }
  return url;
}

/** Saves a stored file to the visitor's device. */
export function download(file: FileRef, onError: () => void): void {
  fileUrl(file)
    .then((url) => {
      const a = document.createElement("a");
      a.href = url;
      a.download = file.name;
      a.click();
    })
    .catch(onError);
}

/** Uploads one file with progress. */
async function upload(file: File, hooks: UploadHooks): Promise<void> {
  hooks.error(null);
  let token: string;
  try {
    token = (await ensureSession()).token;
  } catch {
    hooks.error("Could not connect. Please try again.");
    return;
  }
  const u: Upload = { clientId: crypto.randomUUID(), name: file.name || "file", size: file.size, progress: 0 };
  uploads.push(u);
  hooks.changed(true);
  const body = new FormData();
  body.set("file", file);
  body.set("clientId", u.clientId);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/visitor/files");
  xhr.setRequestHeader("Authorization", `Bearer ${token}`);
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) {
      u.progress = e.loaded / e.total;
      hooks.changed();
    }
  });
  const finish = (error: string | null, message?: Message) => {
    uploads = uploads.filter((x) => x !== u);
    if (message) hooks.stored(message);
    if (error) hooks.error(error);
    hooks.changed();
  };
  xhr.addEventListener("load", () => {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(xhr.responseText);
    } catch {
      // handled below
    }
    if (xhr.status === 200 || xhr.status === 201) return finish(null, (parsed as UploadResponse).message);
    const message = (parsed as { error?: { message?: string } } | null)?.error?.message;
    finish(`${file.name}: ${message ?? `upload failed (HTTP ${xhr.status})`}`);
  });
  xhr.addEventListener("error", () => finish(`${file.name}: the upload failed. Check your connection and try again.`));
  xhr.send(body);
}

/** Binds the ways in: the paper clip, a drop anywhere on the chat, a picture pasted into `input`. */
export function bindUploads(input: HTMLTextAreaElement, hooks: UploadHooks): void {
  const send = (files: Iterable<File>) => {
    for (const f of files) void upload(f, hooks);
  };
  const picker = $<HTMLInputElement>("file");
  $("attach").addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    send(picker.files ?? []);
    picker.value = "";
  });

  // dragenter/dragleave fire for every child crossed, so count them.
  const dropZone = $("drop");
  let depth = 0;
  document.addEventListener("dragenter", (e) => {
    if (!e.dataTransfer?.types.includes("Files")) return;
    depth++;
    dropZone.hidden = false;
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) dropZone.hidden = true;
  });
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    dropZone.hidden = true;
    send(e.dataTransfer?.files ?? []);
  });

  input.addEventListener("paste", (e) => {
    // A pasted picture (a screenshot) is sent like an attached one.
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length > 0) {
      e.preventDefault();
      send(files);
    }
  });
}
