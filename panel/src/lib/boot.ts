/**
 * What the panel asks the server before it can draw anything, asked the
 * moment its script runs (index.tsx imports this first): whether setup is
 * needed, who is signed in, and, if this browser was signed in before, the
 * panel socket (whose first frame is the conversation index). All three then
 * travel while the rest of the script is evaluated, instead of one after
 * another once it has been (bench/panel.mjs measures the difference).
 */
import { api } from "./api";
import { openEarlySocket } from "./early-socket";

let first: { setup: ReturnType<typeof api.setupStatus>; me: ReturnType<typeof api.me> } | null = {
  setup: api.setupStatus(),
  me: api.me(),
};
// Read by the session store; until then a failure is not an unhandled rejection.
first.setup.catch(() => undefined);
first.me.catch(() => undefined);
openEarlySocket();

/** The answers asked at start, once (a retry asks again). */
export function firstRequests(): typeof first {
  const taken = first;
  first = null;
  return taken;
}
