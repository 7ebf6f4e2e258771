// Hand-written router, used as the panel uses it: parse the path, switch on the route, navigate, links.
import { createMemo, Match, Switch } from "solid-js";
import { render } from "solid-js/web";
import { linkClick, navigate, parseRoute, path } from "./support/hand-router";

const route = createMemo(() => parseRoute(path()));
render(
  () => (
    <div>
      <a href="/reports" onClick={linkClick}>
        Reports
      </a>
      <button onClick={() => navigate("/operators")}>Go</button>
      <Switch fallback={<p>unknown</p>}>
        <Match when={route().name === "conversations"}>
          <p>conversations</p>
        </Match>
        <Match when={route().name === "reports"}>
          <p>reports</p>
        </Match>
      </Switch>
    </div>
  ),
  document.body,
);
