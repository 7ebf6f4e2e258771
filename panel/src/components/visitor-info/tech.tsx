/** Visitor info > Browser and device: browser, system, device kind (and a bot flag) and IP address. */
import { Show } from "solid-js";
import type { VisitorDevice, VisitorInfo } from "../../../../worker/protocol";
import { Section } from "./section";

const DEVICE: Record<VisitorDevice, string> = {
  desktop: "Desktop",
  mobile: "Mobile",
  tablet: "Tablet",
  tv: "TV",
  bot: "Bot",
};

export function TechSection(props: { info: VisitorInfo }) {
  const versioned = (x: { name: string; version: string | null } | null) =>
    x ? [x.name, x.version].filter(Boolean).join(" ") : null;
  const unknown = () => <span class="muted">Unknown</span>;
  return (
    <Section title="Browser and device" testId="visitor-tech">
      <dl class="vi-list">
        <dt>Browser</dt>
        <dd data-testid="visitor-browser">{versioned(props.info.browser) ?? unknown()}</dd>
        <dt>System</dt>
        <dd data-testid="visitor-os">{versioned(props.info.os) ?? unknown()}</dd>
        <dt>Device</dt>
        <dd data-testid="visitor-device">
          {props.info.device ? DEVICE[props.info.device] : unknown()}
          <Show when={props.info.bot}>
            {" "}
            <span class="tag tag-warn" data-testid="visitor-bot">
              Bot
            </span>
          </Show>
        </dd>
        <dt>IP address</dt>
        <dd class="vi-mono" data-testid="visitor-ip">
          {props.info.ip ?? unknown()}
        </dd>
      </dl>
    </Section>
  );
}
