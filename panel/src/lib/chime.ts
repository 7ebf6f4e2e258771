/**
 * The notification sound: a short two-note chime made with WebAudio, so no
 * audio file is fetched or shipped.
 *
 * Browsers only let a page make sound after the person interacted with it
 * (autoplay policy): the context is created, or resumed, on the first pointer
 * or key press, and a chime before that is silently skipped.
 */

let ctx: AudioContext | null = null;

function unlock(): void {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === "suspended") void ctx.resume();
  } catch {
    // No WebAudio (or refused): notifications stay silent.
  }
}

let armed = false;
/** Resume audio on the first interaction; call once when the panel starts. */
export function armChime(): void {
  if (armed) return;
  armed = true;
  window.addEventListener("pointerdown", unlock, { once: true, capture: true });
  window.addEventListener("keydown", unlock, { once: true, capture: true });
}

/** Plays the chime (about 0.4 s) if audio is available and allowed. */
export function chime(): void {
  if (!ctx || ctx.state !== "running") return;
  const start = ctx.currentTime + 0.01;
  const notes: [number, number][] = [
    [880, 0],
    [1318.5, 0.12],
  ];
  for (const [freq, offset] of notes) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    const t = start + offset;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.18, t + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.28);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.3);
  }
}
