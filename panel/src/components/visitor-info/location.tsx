/** Visitor info > location: the world map with the visitor's place marked, the place in words, their local time. */
import { createMemo, createSignal, ErrorBoundary, lazy, onCleanup, Show, Suspense } from "solid-js";
import type { VisitorInfo } from "../../../../worker/protocol";

// The map and its outlines are a separate chunk, fetched the first time a visitor panel opens.
const WorldMap = lazy(() => import("./world-map"));

function countryName(code: string | null): string | null {
  if (!code) return null;
  try {
    return new Intl.DisplayNames(undefined, { type: "region" }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** A formatter for the zone, or null if the browser does not know it. */
function zoneFormatter(timeZone: string | null): Intl.DateTimeFormat | null {
  if (!timeZone) return null;
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone, hour: "2-digit", minute: "2-digit", weekday: "short" });
  } catch {
    return null;
  }
}

/** The current time, ticking on each new minute. */
function createMinuteClock() {
  const [time, setTime] = createSignal(Date.now());
  let interval: ReturnType<typeof setInterval> | undefined;
  const timeout = setTimeout(
    () => {
      setTime(Date.now());
      interval = setInterval(() => setTime(Date.now()), 60_000);
    },
    60_000 - (Date.now() % 60_000) + 50,
  );
  onCleanup(() => {
    clearTimeout(timeout);
    clearInterval(interval);
  });
  return time;
}

export function LocationSection(props: { info: VisitorInfo }) {
  const loc = () => props.info.location;
  const place = () => {
    const l = loc();
    if (!l) return "";
    return [l.city, l.region, countryName(l.country)].filter((x): x is string => !!x && x.trim() !== "").join(", ");
  };
  const formatter = createMemo(() => zoneFormatter(loc()?.timezone ?? null));
  const clock = createMinuteClock();
  const label = () => (place() ? `World map showing the visitor in ${place()}` : "World map; the location is unknown");

  return (
    <section class="vi-section vi-location" aria-label="Location">
      <div class="map-box">
        {/* The chunk may fail to load (offline, a new deploy removed it): the rest of the panel stays. */}
        <ErrorBoundary fallback={<p class="map-missing muted small">The map could not be loaded.</p>}>
          <Suspense fallback={<span class="skeleton map-skeleton" />}>
            <WorldMap
              country={loc()?.country ?? null}
              latitude={loc()?.latitude ?? null}
              longitude={loc()?.longitude ?? null}
              label={label()}
            />
          </Suspense>
        </ErrorBoundary>
      </div>
      <p class="vi-place" data-testid="visitor-place">
        {place() || <span class="muted">Location unknown</span>}
      </p>
      <Show when={formatter()}>
        {(f) => (
          <p class="vi-local-time muted small" data-testid="visitor-local-time">
            <time>{f().format(clock())}</time> local time ({loc()?.timezone})
          </p>
        )}
      </Show>
    </section>
  );
}
