// @solidjs/router, used as the panel would use it: a root layout, path params, redirects, links, navigate.
import { A, Navigate, Route, Router, useNavigate, useParams, type RouteSectionProps } from "@solidjs/router";
import { render } from "solid-js/web";

function Shell(props: RouteSectionProps) {
  const go = useNavigate();
  return (
    <div>
      <A href="/reports">Reports</A>
      <button onClick={() => go("/operators")}>Go</button>
      {props.children}
    </div>
  );
}
const Page = () => <p>{useParams().id}</p>;
render(
  () => (
    <Router root={Shell}>
      <Route path={["/", "/conversations/:id?"]} component={Page} />
      <Route path="/reports/:tab?" component={Page} />
      <Route path="*" component={() => <Navigate href="/conversations" />} />
    </Router>
  ),
  document.body,
);
