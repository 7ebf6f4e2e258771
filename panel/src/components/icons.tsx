/** The handful of line icons the panel uses (24px grid, currentColor), each drawn from its shapes. */
import type { JSX } from "solid-js";

/** A path's `d`, a circle (cx, cy, r) or a rectangle (x, y, width, height, rx). */
type Shape = string | { circle: [number, number, number] } | { rect: [number, number, number, number, number] };

const draw = (s: Shape): JSX.Element =>
  typeof s === "string" ? (
    <path d={s} />
  ) : "circle" in s ? (
    <circle cx={s.circle[0]} cy={s.circle[1]} r={s.circle[2]} />
  ) : (
    <rect x={s.rect[0]} y={s.rect[1]} width={s.rect[2]} height={s.rect[3]} rx={s.rect[4]} />
  );

/** An icon of these shapes, `size` px unless told otherwise; decorative, so hidden from assistive technology. */
function icon(size: number, ...shapes: Shape[]) {
  return (props: { size?: number }) => (
    <svg
      class="icon"
      width={props.size ?? size}
      height={props.size ?? size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
    >
      {shapes.map(draw)}
    </svg>
  );
}

export const ChatIcon = icon(20, "M21 12a8 8 0 0 1-11.8 7L4 20l1.1-4.4A8 8 0 1 1 21 12Z");

export const UsersIcon = icon(
  20,
  { circle: [9, 8, 3.5] },
  "M2.5 20a6.5 6.5 0 0 1 13 0",
  "M16 4.5a3.5 3.5 0 0 1 0 7",
  "M18 14a6.5 6.5 0 0 1 3.5 6",
);

export const LogoutIcon = icon(20, "M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4", "M16 17l5-5-5-5", "M21 12H9");

export const BackIcon = icon(20, "M15 18l-6-6 6-6");

export const SendIcon = icon(18, "M22 2 11 13", "M22 2 15 22l-4-9-9-4 20-7Z");

export const CloseIcon = icon(16, "M18 6 6 18", "M6 6l12 12");

export const PaperclipIcon = icon(
  20,
  "m21.4 11.1-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l8-8",
);

export const FileIcon = icon(
  28,
  "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8Z",
  "M14 2v6h6",
  "M8 13h8",
  "M8 17h5",
);

export const UploadIcon = icon(36, "M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4", "M17 8l-5-5-5 5", "M12 3v12");

/** The email channel's envelope (the blue envelope on email messages). */
export const MailIcon = icon(16, { rect: [2.5, 4.5, 19, 15, 2] }, "m3 6 9 7 9-7");

export const SettingsIcon = icon(
  20,
  { circle: [12, 12, 3] },
  "M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1Z",
);

/** Report: bars of a chart. */
export const ChartIcon = icon(20, "M3 3v18h18", "M8 17v-5", "M13 17V8", "M18 17v-8");

export const TrashIcon = icon(
  16,
  "M3 6h18",
  "M8 6V4a1 1 0 0 1 1-1h6a1 1 0 0 1 1 1v2",
  "M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6",
  "M10 11v6",
  "M14 11v6",
);

export const DownloadIcon = icon(16, "M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4", "M7 10l5 5 5-5", "M12 15V3");

export const ClockIcon = icon(18, { circle: [12, 12, 9] }, "M12 7v5l3 2");

export const ListIcon = icon(18, "M9 6h11", "M9 12h11", "M9 18h11", "M4 6h.01", "M4 12h.01", "M4 18h.01");

export const ShieldIcon = icon(18, "M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10Z");

export const BellIcon = icon(20, "M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9", "M10.3 21a1.94 1.94 0 0 0 3.4 0");

export const BellOffIcon = icon(
  20,
  "M8.7 3A6 6 0 0 1 18 8a21.3 21.3 0 0 0 .6 5",
  "M17 17H3s3-2 3-9a4.67 4.67 0 0 1 .3-1.7",
  "M10.3 21a1.94 1.94 0 0 0 3.4 0",
  "m2 2 20 20",
);

export const PlugIcon = icon(20, "M9 2v6", "M15 2v6", "M6 8h12v3a6 6 0 0 1-12 0Z", "M12 17v5");

export const InfoIcon = icon(18, { circle: [12, 12, 9] }, "M12 16v-4", "M12 8h.01");

export const CopyIcon = icon(
  16,
  { rect: [9, 9, 12, 12, 2] },
  "M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1",
);
