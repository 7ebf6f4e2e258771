/** Report > Operator's table: a row per operator with ratings (average, count, distribution), conversations joined, messages sent and median first response. */
import { For, Show, type JSX } from "solid-js";
import type { OperatorReport } from "../../../../worker/protocol";
import { decimal, duration, stars } from "../../lib/format";

export function OperatorTable(props: { operators: OperatorReport[] }) {
  return (
    <section class="card report-table-card" aria-labelledby="operators-title">
      <h2 id="operators-title" class="card-title">
        Operators
      </h2>
      {/* Scrolls sideways on a phone: focusable so the keyboard can scroll it too. */}
      <div class="table-scroll" role="region" aria-label="Operators table" tabIndex={0}>
        <table class="report-table" data-testid="operator-report">
          <thead>
            <tr>
              <th scope="col">Operator</th>
              <th scope="col">Average rating</th>
              <th scope="col" class="num">
                Ratings
              </th>
              <th scope="col">Distribution</th>
              <th scope="col" class="num">
                Joined
              </th>
              <th scope="col" class="num">
                Messages
              </th>
              <th scope="col" class="num">
                <abbr title="Median first response time">First response</abbr>
              </th>
            </tr>
          </thead>
          <tbody>
            <For
              each={props.operators}
              fallback={
                <tr>
                  <td colSpan={7} class="muted">
                    No operators
                  </td>
                </tr>
              }
            >
              {(o) => <OperatorRow o={o} />}
            </For>
          </tbody>
        </table>
      </div>
      <p class="muted small report-note">
        Joined: conversations the operator joined. First response: the median time from a waiting visitor's message to
        the operator's first reply.
      </p>
    </section>
  );
}

function OperatorRow(props: { o: OperatorReport }) {
  const o = () => props.o;
  return (
    <tr data-testid="operator-report-row" data-operator-id={o().id}>
      <th scope="row" class="report-name">
        {o().name}
      </th>
      <td data-testid="average-rating">
        <Show when={o().averageRating} fallback={<span class="muted">—</span>}>
          {(avg) => (
            <span class="rating" role="img" aria-label={`${decimal(avg())} out of 5`}>
              <span class="rating-stars" aria-hidden="true">
                {stars(avg())}
              </span>
              <span class="rating-value" aria-hidden="true">
                {decimal(avg())}
              </span>
            </span>
          )}
        </Show>
      </td>
      <td class="num" data-testid="rating-count">
        {o().ratings}
      </td>
      <td>
        <Distribution counts={o().distribution} />
      </td>
      <td class="num" data-testid="conversations-joined">
        {o().conversationsJoined}
      </td>
      <td class="num" data-testid="messages-sent">
        {o().messagesSent}
      </td>
      <td class="num" data-testid="first-response">
        {duration(o().medianFirstResponseMs)}
      </td>
    </tr>
  );
}

/** Five little columns, one per star (1 to 5), as tall as their share of the ratings. */
function Distribution(props: { counts: number[] }): JSX.Element {
  const max = () => Math.max(1, ...props.counts);
  const words = () => props.counts.map((n, i) => `${i + 1} star${i ? "s" : ""}: ${n}`).join(", ");
  return (
    <span class="distribution" role="img" aria-label={words()} title={words()}>
      <For each={props.counts}>
        {(n, i) => (
          <span class="dist-col">
            <span class="dist-track">
              <span
                class="dist-bar"
                classList={{ zero: n === 0 }}
                style={{ height: `${n === 0 ? 0 : Math.max(12, (n / max()) * 100)}%` }}
              />
            </span>
            <span class="dist-label">{i() + 1}</span>
          </span>
        )}
      </For>
    </span>
  );
}
