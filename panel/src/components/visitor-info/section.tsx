/** A titled section of the visitor info (its heading labels it), with something beside the title. */
import type { JSX } from "solid-js";

export function Section(props: { title: string; testId?: string; children: JSX.Element; aside?: JSX.Element }) {
  const id = `vi-${props.title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <section class="vi-section" aria-labelledby={id} data-testid={props.testId}>
      <h3 id={id} class="vi-heading">
        <span>{props.title}</span>
        {props.aside}
      </h3>
      {props.children}
    </section>
  );
}
