/**
 * Attachments of a conversation, for operators and visitors alike: a checked
 * upload goes to R2 first, then its message into the conversation; serving
 * reads the conversation's record of the file before R2. Callers authorise
 * first; these only ever touch the conversation they are given.
 */
import type { Env } from "../env";
import { refuse, unwrap } from "../errors";
import { isId, randomId } from "../lib/crypto";
import { fileKey, fileResponse } from "../lib/files";
import type { FileRef, Role, UploadResponse } from "../protocol";
import { conversationStub } from "../stubs";
import type { Upload } from "../validate/upload";

/**
 * Stores an upload in R2, then its message in the conversation; undoes the
 * first if the second fails or refuses, so no file is left without a message.
 * `fresh` is false for a resend of an upload already stored (its first copy is kept).
 */
export async function storeUpload(
  env: Env,
  conversationId: string,
  who: { role: Role; id: string; name: string },
  upload: Upload,
): Promise<{ body: UploadResponse; fresh: boolean }> {
  const file: FileRef = {
    id: randomId(),
    name: upload.name,
    size: upload.bytes.byteLength,
    type: upload.type,
    image: upload.image,
  };
  const key = fileKey(conversationId, file.id);
  const bucket = env.ATTACHMENTS;
  await bucket.put(key, upload.bytes, {
    httpMetadata: { contentType: upload.type },
    customMetadata: { name: file.name, conversationId, uploader: `${who.role}:${who.id}` },
  });

  let stored: { message: UploadResponse["message"]; fresh: boolean };
  try {
    const result = await conversationStub(env, conversationId).attachFile(
      conversationId,
      env.WORKSPACE_ID,
      who,
      upload.clientId,
      file,
      upload.channel,
    );
    if (!result.ok) await bucket.delete(key);
    stored = unwrap(result);
  } catch (err) {
    await bucket.delete(key);
    throw err;
  }
  if (!stored.fresh) await bucket.delete(key);
  const body: UploadResponse = {
    ack: { clientId: upload.clientId, seq: stored.message.seq, at: stored.message.at },
    message: stored.message,
  };
  return { body, fresh: stored.fresh };
}

/** The response serving attachment `fileId` of `conversationId` (already authorised); pictures inline on request. */
export async function serveFile(env: Env, conversationId: string, fileId: string, inline: boolean): Promise<Response> {
  if (!isId(fileId)) refuse("not_found", "No such file");
  const file = unwrap(await conversationStub(env, conversationId).getFile(conversationId, env.WORKSPACE_ID, fileId));
  const object = await env.ATTACHMENTS.get(fileKey(conversationId, file.id));
  if (!object) refuse("not_found", "No such file");
  return fileResponse(object, file, inline);
}
