/**
 * Validation of frames arriving on a panel socket, before anything reads
 * them: the shape of `more` (the only frame a panel sends besides the ping
 * the runtime answers). Fields a panel may leave out, or send in a form
 * older panels did, are dropped here and defaulted by the caller.
 */
import type { ErrorCode, PanelClientFrame } from "../protocol";

/** A valid panel frame, or the error to answer with. */
type PanelFrameResult = { ok: true; frame: PanelClientFrame } | { ok: false; code: ErrorCode; message: string };

/** Checks a parsed panel frame's type and fields. */
export function validatePanelFrame(raw: unknown): PanelFrameResult {
  if (typeof raw !== "object" || raw === null || !("type" in raw)) {
    return { ok: false, code: "bad_frame", message: "Frame needs a type" };
  }
  if (raw.type !== "more") return { ok: false, code: "unknown_type", message: "Unknown frame type" };
  const f = raw as { view?: unknown; beforeLastAt?: unknown; beforeId?: unknown; limit?: unknown };
  const view = f.view ?? "all";
  if (view !== "all" && view !== "unassigned" && view !== "mine") {
    return { ok: false, code: "bad_frame", message: 'more.view must be "unassigned", "mine" or "all"' };
  }
  if (typeof f.beforeLastAt !== "number" || !Number.isFinite(f.beforeLastAt)) {
    return { ok: false, code: "bad_frame", message: "more.beforeLastAt must be a number" };
  }
  const frame: PanelClientFrame = { type: "more", view, beforeLastAt: f.beforeLastAt };
  if (typeof f.limit === "number" && Number.isInteger(f.limit)) frame.limit = f.limit;
  if (typeof f.beforeId === "string" && f.beforeId.length <= 64) frame.beforeId = f.beforeId;
  return { ok: true, frame };
}
