/**
 * Files sent to one open conversation: over HTTP (`api.upload`), one at a
 * time in the order chosen, each waiting in `uploads` with its progress
 * meanwhile. The stored message comes back both in the upload's answer and
 * as a broadcast, and the log keeps whichever is first.
 */
import type { SetStoreFunction } from "solid-js/store";
import { LIMITS, type Channel, type Message } from "../../../worker/protocol";
import { api, errorText, HttpError } from "../lib/api";
import { newClientId } from "../lib/format";
import type { ConversationStoreState, PendingUpload } from "./conversation-state";

const megabytes = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;

export function createUploads(
  conversationId: string,
  state: ConversationStoreState,
  setState: SetStoreFunction<ConversationStoreState>,
  stored: (m: Message) => void,
) {
  /** Aborts the upload (or queued upload) under each clientId. */
  const controllers = new Map<string, AbortController>();
  let queue: Promise<void> = Promise.resolve();

  const drop = (clientId: string) => setState("uploads", (list) => list.filter((u) => u.clientId !== clientId));

  const sendFile = async (clientId: string, file: File, signal: AbortSignal, channel: Channel) => {
    if (signal.aborted) return; // cancelled while queued
    const mine = (u: PendingUpload) => u.clientId === clientId;
    setState("uploads", mine, "status", "uploading");
    try {
      const res = await api.upload(conversationId, file, clientId, {
        signal,
        channel,
        onProgress: (fraction) => setState("uploads", mine, "percent", Math.min(100, Math.round(fraction * 100))),
      });
      stored(res.message);
    } catch (e) {
      if (!(e instanceof HttpError && e.code === "aborted")) setState("error", `${file.name}: ${errorText(e)}`);
    } finally {
      controllers.delete(clientId);
      drop(clientId);
    }
  };

  return {
    upload(files: File[], channel: Channel) {
      if (files.length === 0) return;
      setState("error", null);
      // A mail carries at most about 3.7 MB of file: say so now, not after the upload.
      const tooBig = channel === "email" ? files.filter((f) => f.size > LIMITS.emailFileBytes) : [];
      if (tooBig.length) {
        setState(
          "error",
          `${tooBig.map((f) => f.name || "file").join(", ")}: Too large to send by email: a mail carries at most ${megabytes(LIMITS.emailFileBytes)} of file. Switch to Chat to send it there.`,
        );
        files = files.filter((f) => !tooBig.includes(f));
      }
      for (const file of files) {
        const p: PendingUpload = {
          clientId: newClientId(),
          name: file.name || "file",
          size: file.size,
          percent: 0,
          status: "queued",
          channel,
        };
        const controller = new AbortController();
        controllers.set(p.clientId, controller);
        setState("uploads", state.uploads.length, p);
        // One at a time, so the conversation shows them in the order chosen.
        queue = queue.then(() => sendFile(p.clientId, file, controller.signal, channel));
      }
    },
    cancel(clientId: string) {
      controllers.get(clientId)?.abort();
      controllers.delete(clientId);
      drop(clientId);
    },
    dispose() {
      for (const c of controllers.values()) c.abort();
      controllers.clear();
    },
  };
}
