// The hand-written virtual list.
import { render } from "solid-js/web";
import { VirtualRows } from "../../src/components/inbox/virtual-rows";

const items = Array.from({ length: 1000 }, (_, i) => i);
render(() => <VirtualRows items={items}>{(n) => <span>{n}</span>}</VirtualRows>, document.body);
