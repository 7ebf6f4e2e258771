/**
 * Files dragged onto the open conversation: whether a drag with files is over
 * it, the handlers for its element, and a guard so that a file dropped a
 * little outside does not make the browser open it in place of the panel,
 * and the overlay that says what a drop would do.
 */
import { createSignal, onCleanup, onMount, type Accessor } from "solid-js";
import { UploadIcon } from "../icons";

const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes("Files") ?? false;

export interface FileDrop {
  /** A drag with files is over the element. */
  dragging: Accessor<boolean>;
  /** Spread onto the element that takes the drop. */
  handlers: {
    onDragEnter(e: DragEvent): void;
    onDragOver(e: DragEvent): void;
    onDragLeave(e: DragEvent): void;
    onDrop(e: DragEvent): void;
  };
}

/** `canDrop`: whether a drop now would be taken (else the cursor says no). */
export function createFileDrop(canDrop: () => boolean, onFiles: (files: File[]) => void): FileDrop {
  const [dragging, setDragging] = createSignal(false);
  // dragenter/dragleave fire for every child crossed, so count them.
  let depth = 0;

  // Refuse drops everywhere else while the conversation is open.
  onMount(() => {
    const guard = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    window.addEventListener("dragover", guard);
    window.addEventListener("drop", guard);
    onCleanup(() => {
      window.removeEventListener("dragover", guard);
      window.removeEventListener("drop", guard);
    });
  });

  return {
    dragging,
    handlers: {
      onDragEnter(e) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth++;
        setDragging(true);
      },
      onDragOver(e) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = canDrop() ? "copy" : "none";
      },
      onDragLeave(e) {
        if (!hasFiles(e)) return;
        depth = Math.max(0, depth - 1);
        if (depth === 0) setDragging(false);
      },
      onDrop(e) {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth = 0;
        setDragging(false);
        const files = Array.from(e.dataTransfer?.files ?? []);
        if (canDrop() && files.length) onFiles(files);
      },
    },
  };
}

/** What a drop would do, over the conversation while files are dragged onto it. */
export function DropOverlay(props: { canDrop: boolean; byEmail: boolean }) {
  return (
    <div class="drop-overlay" classList={{ refused: !props.canDrop }} data-testid="drop-overlay" aria-hidden="true">
      <div class="drop-target">
        <UploadIcon />
        <span>
          {props.canDrop
            ? props.byEmail
              ? "Drop to send by email"
              : "Drop to send"
            : "Join the conversation to send files"}
        </span>
      </div>
    </div>
  );
}
