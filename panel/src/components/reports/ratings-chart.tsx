/**
 * Ratings over time for Report > Operator: a bar per UTC day for how many
 * ratings came in (left axis) and dots joined by a line for that day's
 * average (right axis, 0–5 stars). Plain SVG sized to its box in real
 * pixels, so text and dots never stretch.
 *
 * The SVG is one image for assistive technology (`role="img"` with a summary
 * in its label); the figures themselves are in a visually hidden table.
 */
import { createMemo, createSignal, For, onCleanup, onMount, Show } from "solid-js";
import type { OperatorReportResponse } from "../../../../worker/protocol";
import { decimal } from "../../lib/format";

type Day = OperatorReportResponse["series"][number];

const HEIGHT = 200;
const M = { top: 14, right: 34, bottom: 26, left: 34 };
/** The room a day's label on the axis needs, with a gap to the next ("Nov 12" is about 40 px). */
const LABEL_SPACING = 56;

/** "12 Mar" for a "2025-03-12" UTC day. */
export function shortDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, {
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  });
}

/** Whole-number ticks from 0 to at least `max`: 0, step, 2·step, … (at most 4 intervals). */
function countTicks(max: number): number[] {
  const top = Math.max(1, max);
  const step = Math.max(1, Math.ceil(top / 4));
  const ticks: number[] = [];
  for (let v = 0; v < top + step; v += step) ticks.push(v);
  return ticks;
}

export function RatingsChart(props: { series: Day[] }) {
  let box!: HTMLDivElement;
  const [width, setWidth] = createSignal(640);
  onMount(() => {
    const ro = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(240, Math.floor(entry.contentRect.width)));
    });
    ro.observe(box);
    onCleanup(() => ro.disconnect());
  });

  const total = createMemo(() => props.series.reduce((n, d) => n + d.ratings, 0));
  const average = createMemo(() => {
    const sum = props.series.reduce((s, d) => s + (d.average ?? 0) * d.ratings, 0);
    return total() ? sum / total() : null;
  });
  const rated = createMemo(() => props.series.filter((d) => d.ratings > 0));

  const geometry = createMemo(() => {
    const n = Math.max(1, props.series.length);
    const plotW = width() - M.left - M.right;
    const plotH = HEIGHT - M.top - M.bottom;
    const slot = plotW / n;
    const ticks = countTicks(Math.max(0, ...props.series.map((d) => d.ratings)));
    const top = ticks[ticks.length - 1]!;
    const yCount = (v: number) => M.top + plotH - (v / top) * plotH;
    const yAvg = (v: number) => M.top + plotH - (v / 5) * plotH;
    const x = (i: number) => M.left + slot * i + slot / 2;
    const barW = Math.max(2, Math.min(28, slot * 0.6));
    // Label about six days along the axis (fewer where they would not fit: a day's label is about 40 px wide),
    // always the first and the last.
    const fit = Math.max(2, Math.floor(plotW / LABEL_SPACING));
    const every = Math.max(1, Math.ceil(n / Math.min(6, fit)));
    const labelled = props.series.map((_, i) => i).filter((i) => i % every === 0);
    const lastI = props.series.length - 1;
    if (lastI > 0 && labelled[labelled.length - 1] !== lastI) {
      // The last day is always labelled; drop its neighbour if they would collide.
      if (lastI - labelled[labelled.length - 1]! < every * 0.6) labelled.pop();
      labelled.push(lastI);
    }
    const labels = labelled.map((i) => ({ i, day: props.series[i]!.day }));
    // The line is broken on days without ratings: no average, nothing to join.
    const segments: string[] = [];
    let current: string[] = [];
    props.series.forEach((d, i) => {
      if (d.average === null) {
        if (current.length > 1) segments.push(current.join(" "));
        current = [];
        return;
      }
      current.push(`${current.length ? "L" : "M"}${x(i).toFixed(1)},${yAvg(d.average).toFixed(1)}`);
    });
    if (current.length > 1) segments.push(current.join(" "));
    return { plotW, plotH, slot, ticks, yCount, yAvg, x, barW, labels, segments };
  });

  const summary = () => {
    const s = props.series;
    if (s.length === 0) return "Ratings per day: no data.";
    const span = s.length === 1 ? shortDay(s[0]!.day) : `${shortDay(s[0]!.day)} to ${shortDay(s[s.length - 1]!.day)}`;
    if (!total()) return `Ratings per day, ${span}: no ratings.`;
    const days = rated().length;
    return `Ratings per day, ${span}: ${total()} ${total() === 1 ? "rating" : "ratings"} on ${days} ${days === 1 ? "day" : "days"}, average ${decimal(average()!)} out of 5.`;
  };

  return (
    <figure class="chart" data-testid="ratings-chart">
      <div class="chart-box" ref={box}>
        <svg
          role="img"
          aria-label={summary()}
          width={width()}
          height={HEIGHT}
          viewBox={`0 0 ${width()} ${HEIGHT}`}
          class="chart-svg"
        >
          <For each={geometry().ticks}>
            {(t) => (
              <g class="chart-grid">
                <line x1={M.left} x2={width() - M.right} y1={geometry().yCount(t)} y2={geometry().yCount(t)} />
                <text x={M.left - 6} y={geometry().yCount(t)} text-anchor="end" dominant-baseline="middle">
                  {t}
                </text>
              </g>
            )}
          </For>
          <For each={[1, 3, 5]}>
            {(v) => (
              <text class="chart-axis-avg" x={width() - M.right + 6} y={geometry().yAvg(v)} dominant-baseline="middle">
                {v}★
              </text>
            )}
          </For>
          <For each={props.series}>
            {(d, i) => (
              <g>
                <Show when={d.ratings > 0}>
                  <rect
                    class="chart-bar"
                    x={geometry().x(i()) - geometry().barW / 2}
                    y={geometry().yCount(d.ratings)}
                    width={geometry().barW}
                    height={Math.max(0, geometry().yCount(0) - geometry().yCount(d.ratings))}
                    rx={Math.min(3, geometry().barW / 3)}
                  />
                </Show>
                {/* A hit area per day for the mouse tooltip. */}
                <rect
                  class="chart-hit"
                  x={geometry().x(i()) - geometry().slot / 2}
                  y={M.top}
                  width={geometry().slot}
                  height={geometry().plotH}
                >
                  <title>
                    {`${shortDay(d.day)}: ${d.ratings} ${d.ratings === 1 ? "rating" : "ratings"}${d.average === null ? "" : `, average ${decimal(d.average)}`}`}
                  </title>
                </rect>
              </g>
            )}
          </For>
          <For each={geometry().segments}>{(path) => <path class="chart-line" d={path} />}</For>
          <For each={props.series}>
            {(d, i) => (
              <Show when={d.average !== null}>
                <circle class="chart-dot" cx={geometry().x(i())} cy={geometry().yAvg(d.average!)} r={3.5} />
              </Show>
            )}
          </For>
          <line
            class="chart-baseline"
            x1={M.left}
            x2={width() - M.right}
            y1={geometry().yCount(0)}
            y2={geometry().yCount(0)}
          />
          <For each={geometry().labels}>
            {(l) => (
              <text class="chart-label" x={geometry().x(l.i)} y={HEIGHT - 8} text-anchor="middle">
                {shortDay(l.day)}
              </text>
            )}
          </For>
        </svg>
      </div>
      <figcaption class="chart-legend" aria-hidden="true">
        <span class="legend-item">
          <span class="legend-swatch bar" /> Ratings per day
        </span>
        <span class="legend-item">
          <span class="legend-swatch dot" /> Average rating
        </span>
      </figcaption>
      <table class="sr-only">
        <caption>Ratings per day (days with ratings)</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Ratings</th>
            <th scope="col">Average</th>
          </tr>
        </thead>
        <tbody>
          <For
            each={rated()}
            fallback={
              <tr>
                <td colSpan={3}>No ratings in this period</td>
              </tr>
            }
          >
            {(d) => (
              <tr>
                <th scope="row">{shortDay(d.day)}</th>
                <td>{d.ratings}</td>
                <td>{d.average === null ? "—" : decimal(d.average)}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </figure>
  );
}
