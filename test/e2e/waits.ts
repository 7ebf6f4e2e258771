/**
 * Polls `read` until `ok` holds, for state only reachable by asking (an HTTP
 * API, a file): the wait ends at the event, not after a fixed time. On
 * timeout it fails with `what` it waited for and the last value it read.
 */
export async function until<T>(
  read: () => Promise<T> | T,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; last saw ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, pause));
  }
}

/**
 * Waits until every picture in the page and in its frames has finished
 * loading or failing, and one more frame has been drawn: by then any
 * `onerror`/`onload` handler a hostile `<img>` carried would have run. The
 * positive event a "nothing ran" check needs, instead of a fixed pause.
 */
export async function imagesSettled(page: import("playwright-core").Page): Promise<void> {
  for (const frame of page.frames()) {
    await frame.waitForFunction(() => [...document.images].every((img) => img.complete), undefined, {
      timeout: 15_000,
    });
  }
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}
